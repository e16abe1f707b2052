package dev.collab.run;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A line protocol's reader: lines, a last line without its break, and the bound. */
class LineReaderTest {

    final List<String> lines = new ArrayList<>();

    final StringBuilder overflow = new StringBuilder();

    void read(String text, int max) {
        LineReader.readAll(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), max,
                (line, terminated) -> lines.add(line + (terminated ? "⏎" : "")), overflow::append);
    }

    @Test
    void linesComeWithoutTheirBreakAndTheLastMayLackIt() {
        read("one\n\ntwo\nthree", 100);
        assertThat(lines).containsExactly("one⏎", "⏎", "two⏎", "three");
        assertThat(overflow).isEmpty();
    }

    @Test
    void aLineLongerThanTheBoundGoesOnAsTextWholeAndTheNextLineIsParsedAgain() {
        String longLine = "x".repeat(25_000);
        read("a\n" + longLine + "\nb\n", 10_000);
        assertThat(lines).containsExactly("a⏎", "b⏎");
        assertThat(overflow.toString()).isEqualTo(longLine + "\n");
    }

    @Test
    void piecesSplitAnywhereMakeTheSameLines() {
        LineReader reader = new LineReader(5, (line, terminated) -> lines.add(line), overflow::append);
        for (String piece : List.of("ab", "c\nde", "fghij", "k\nl", "m\n")) {
            reader.add(piece);
        }
        reader.end();
        assertThat(lines).containsExactly("abc", "lm");
        assertThat(overflow.toString()).isEqualTo("defghijk\n");
    }

}
