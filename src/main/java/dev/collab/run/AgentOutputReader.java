package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.CharBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reads one of the agent's streams (stdout or stderr) to its end as UTF-8 text, with the
 * JDK's {@link InputStreamReader}: a character whose bytes arrive in two reads is handed
 * on whole, once its last byte is in, and bytes that are not UTF-8 become U+FFFD (agents
 * print what they like; the log only takes text). The reader hands on what is available
 * as soon as it is read (it blocks only when nothing is), so output is not held back
 * waiting for a full buffer.
 */
final class AgentOutputReader {

    static final int BUFFER_CHARS = 8192;

    private AgentOutputReader() {
    }

    /**
     * Reads {@code in} until its end (or until it is closed under the reader: the run
     * gave up on a stream that something the agent started still holds open).
     * @param sink gets each piece of text as it is read; the piece is only valid during
     * the call
     */
    static void readAll(InputStream in, Consumer<CharSequence> sink) {
        var decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
        char[] buffer = new char[BUFFER_CHARS];
        try (Reader reader = new InputStreamReader(in, decoder)) {
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                if (n > 0) {
                    sink.accept(CharBuffer.wrap(buffer, 0, n));
                }
            }
        }
        catch (IOException e) {
            // The stream was closed under the reader, or the process is gone: that is its
            // end.
        }
    }

}
