package dev.collab.run.opencode;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lines split like {@code readLine} does, but never longer than the cap.
 */
class LineReaderTest {

    private static List<LineReader.Line> lines(Reader reader, int max) throws IOException {
        LineReader lines = new LineReader(reader, max);
        List<LineReader.Line> all = new ArrayList<>();
        LineReader.Line line;
        while ((line = lines.next()) != null) {
            all.add(line);
        }
        return all;
    }

    @Test
    void splitsAtLfCrAndCrlfLikeReadLine() throws IOException {
        assertThat(lines(new StringReader("a\nb\r\nc\rd\n\ne"), 10)).extracting(LineReader.Line::text)
            .containsExactly("a", "b", "c", "d", "", "e");
        assertThat(lines(new StringReader("a\r\n"), 10)).extracting(LineReader.Line::text).containsExactly("a");
        assertThat(lines(new StringReader(""), 10)).isEmpty();
    }

    @Test
    void aLongLineIsCutAndTheNextLineIsWhole() throws IOException {
        assertThat(lines(new StringReader("0123456789abc\nnext\n"), 10))
            .containsExactly(new LineReader.Line("0123456789", true), new LineReader.Line("next", false));
        assertThat(lines(new StringReader("0123456789\n"), 10))
            .containsExactly(new LineReader.Line("0123456789", false));
    }

    @Test
    void anEndlessLineIsReadWithoutKeepingIt() throws IOException {
        // 50 million characters: far more than the test JVM's heap would hold as a
        // String.
        long total = 50_000_000L;
        Reader endless = new Reader() {

            private long left = total;

            @Override
            public int read(char[] buffer, int offset, int length) {
                if (this.left == 0) {
                    return -1;
                }
                int n = (int) Math.min(length, this.left);
                java.util.Arrays.fill(buffer, offset, offset + n, 'x');
                this.left -= n;
                return n;
            }

            @Override
            public void close() {
            }

        };
        List<LineReader.Line> lines = lines(endless, 100);
        assertThat(lines).singleElement().satisfies(line -> {
            assertThat(line.text()).hasSize(100);
            assertThat(line.cut()).isTrue();
        });
    }

}
