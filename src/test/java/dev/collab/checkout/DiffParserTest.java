package dev.collab.checkout;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Git's output read into files and hunks, within the limits. */
class DiffParserTest {

    @Test
    void rawAndNumstatEntriesBecomeFiles() {
        String output = ":100644 100644 a b M\0m.txt\0:100644 100644 a b R090\0old name\0new name\0"
                + ":000000 100644 0 b A\0bin.dat\0" + "1\t1\tm.txt\0" + "2\t0\t\0old name\0new name\0"
                + "-\t-\tbin.dat\0";
        List<DiffParser.FileBuilder> files = DiffParser.parseRawAndNumstat(output);
        assertThat(files).extracting(file -> file.path).containsExactly("m.txt", "new name", "bin.dat");
        assertThat(files.get(1).status).isEqualTo("renamed");
        assertThat(files.get(1).oldPath).isEqualTo("old name");
        assertThat(files.get(1).additions).isEqualTo(2);
        assertThat(files.get(2).binary).isTrue();
        assertThat(files.get(2).status).isEqualTo("added");
    }

    @Test
    void quotedPathsAreUnquoted() {
        assertThat(DiffParser.unquote("\"a/caf\\303\\251 \\\"x\\\"\\ty\"")).isEqualTo("a/café \"x\"\ty");
        assertThat(DiffParser.unquote("plain")).isEqualTo("plain");
        assertThat(DiffParser.pathOfHeader("diff --git a/a b/c b/a b/c")).isEqualTo("a b/c");
        assertThat(DiffParser.pathOfHeader("diff --git \"a/caf\\303\\251\" \"b/caf\\303\\251\"")).isEqualTo("café");
    }

    @Test
    void hunksStopAtTheLineLimit() throws Exception {
        String patch = """
                diff --git a/one.txt b/one.txt
                index 1..2 100644
                --- a/one.txt
                +++ b/one.txt
                @@ -1,2 +1,2 @@ context
                -a
                +b
                 c
                diff --git a/two words.txt b/two words.txt
                new file mode 100644
                --- /dev/null
                +++ b/two words.txt\t
                @@ -0,0 +1,3 @@
                +x
                +y
                +z
                """;
        Map<String, DiffParser.FileBuilder> files = new LinkedHashMap<>();
        files.put("one.txt", new DiffParser.FileBuilder("one.txt", null, "modified"));
        files.put("two words.txt", new DiffParser.FileBuilder("two words.txt", null, "added"));
        boolean cut = DiffParser.parsePatch(new ByteArrayInputStream(patch.getBytes(StandardCharsets.UTF_8)), files, 5);
        assertThat(cut).isTrue();
        DiffParser.FileBuilder one = files.get("one.txt");
        assertThat(one.hunks).hasSize(1);
        assertThat(one.hunks.getFirst().header()).isEqualTo("@@ -1,2 +1,2 @@ context");
        assertThat(one.hunks.getFirst().lines()).containsExactly("-a", "+b", " c");
        assertThat(files.get("two words.txt").hunks.getFirst().lines()).containsExactly("+x", "+y");
        assertThat(files.get("two words.txt").truncated).isTrue();
    }

}
