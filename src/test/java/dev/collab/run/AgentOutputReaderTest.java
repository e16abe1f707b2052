package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Decoding the agent's output: characters split across reads arrive whole, bytes that are
 * not UTF-8 become U+FFFD.
 */
class AgentOutputReaderTest {

    /**
     * Hands out its chunks one read at a time, as a pipe does when the agent writes them
     * apart.
     */
    static final class Chunks extends InputStream {

        private final Deque<byte[]> chunks = new ArrayDeque<>();

        private final IOException failure;

        Chunks(IOException failure, byte[]... chunks) {
            this.failure = failure;
            this.chunks.addAll(List.of(chunks));
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (chunks.isEmpty()) {
                if (failure != null) {
                    throw failure;
                }
                return -1;
            }
            byte[] chunk = chunks.pollFirst();
            int n = Math.min(length, chunk.length);
            System.arraycopy(chunk, 0, buffer, offset, n);
            if (n < chunk.length) {
                chunks.addFirst(java.util.Arrays.copyOfRange(chunk, n, chunk.length));
            }
            return n;
        }

    }

    static byte[] bytes(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }

    static List<String> read(InputStream in) {
        List<String> pieces = new ArrayList<>();
        AgentOutputReader.readAll(in, text -> pieces.add(text.toString()));
        return pieces;
    }

    @Test
    void multiByteCharactersSplitAcrossReadsArriveWhole() {
        // "été 😀 fin\n": é split after its first byte, 😀 (4 bytes, two chars) split in
        // the middle.
        List<String> pieces = read(new Chunks(null, bytes(0xC3), bytes(0xA9, 't', 0xC3, 0xA9, ' ', 0xF0, 0x9F),
                bytes(0x98, 0x80, ' ', 'f', 'i', 'n', '\n')));
        assertThat(String.join("", pieces)).isEqualTo("été 😀 fin\n");
        assertThat(pieces).as("each read is handed on as it arrives")
            .hasSizeGreaterThan(1)
            .noneMatch(piece -> piece.contains("\uFFFD"))
            .noneMatch(piece -> Character.isHighSurrogate(piece.charAt(piece.length() - 1)))
            .noneMatch(piece -> Character.isLowSurrogate(piece.charAt(0)));
    }

    @Test
    void bytesThatAreNotUtf8BecomeReplacementCharacters() {
        // A stray continuation byte, an invalid byte, and a character cut off by the end
        // of the stream.
        List<String> pieces = read(new Chunks(null, bytes('a', 0x80, 'b', 0xFF, 'c'), bytes(0xE2, 0x82)));
        assertThat(String.join("", pieces)).isEqualTo("a\uFFFDb\uFFFDc\uFFFD");
    }

    @Test
    void aLongOutputArrivesInFullInBufferSizedPieces() {
        byte[] big = "x".repeat(3 * AgentOutputReader.BUFFER_CHARS + 5)
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        List<String> pieces = read(new Chunks(null, big));
        assertThat(String.join("", pieces)).hasSize(big.length);
        assertThat(pieces).allMatch(piece -> piece.length() <= AgentOutputReader.BUFFER_CHARS);
    }

    @Test
    void aStreamClosedUnderTheReaderEndsTheReadingQuietly() {
        List<String> pieces = read(new Chunks(new IOException("Stream closed"), bytes('o', 'k', '\n')));
        assertThat(String.join("", pieces)).isEqualTo("ok\n");
    }

}
