package dev.collab.ops;

import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** The tricky parts of {@link PromQlNames}: what is a metric name and what is not. */
class PromQlNamesTest {

    @Test
    void labelNamesAndValuesInsideBracesAreNoMetricNames() {
        assertThat(PromQlNames
            .in("rate(http_server_requests_seconds_count{application=\"collab-server\", uri!~\"/actuator.*\", status=~\"5..\"}[5m])"))
            .containsExactly("http_server_requests_seconds_count");
        assertThat(PromQlNames.in("a{job='x', le=\"0.5\"} + b{c=\"d{e}\"}")).containsExactly("a", "b");
    }

    @Test
    void aggregationsSkipTheirLabelListsBeforeOrAfterTheArgument() {
        assertThat(PromQlNames.in("sum by (instance, le) (rate(a_bucket[5m])) / sum(b) without (job, instance)"))
            .containsExactly("a_bucket", "b");
        assertThat(PromQlNames.in("histogram_quantile(0.99, sum by (le) (rate(latency_bucket[$__rate_interval])))"))
            .containsExactly("latency_bucket");
        assertThat(PromQlNames.in("topk(10, a) + quantile(0.9, b) + count_values(\"version\", c) + max(d) + group(e)"))
            .containsExactly("a", "b", "c", "d", "e");
    }

    @Test
    void vectorMatchingKeywordsAndTheirLabelsAreSkipped() {
        assertThat(PromQlNames.in("a and on (instance) b")).containsExactly("a", "b");
        assertThat(PromQlNames.in("a * ignoring(code) group_left(pool, job) b")).containsExactly("a", "b");
        assertThat(PromQlNames.in("a / on(x) group_right c unless d or e")).containsExactly("a", "c", "d", "e");
        assertThat(PromQlNames.in("sum BY (le) (a) AND b Or c")).as("keywords are case-insensitive")
            .containsExactly("a", "b", "c");
    }

    @Test
    void durationsNumbersAndModifiersAreNoNames() {
        assertThat(PromQlNames.in("a >= bool a offset 35m")).containsExactly("a");
        assertThat(PromQlNames.in("b offset -1h30m + c @ 1609746000 + d[5m:30s] + 1e-3 * e - 0x1F + .5"))
            .containsExactly("b", "c", "d", "e");
        assertThat(PromQlNames.in("f > Inf or g < -NaN")).containsExactly("f", "g");
        assertThat(PromQlNames.in("min_over_time(h[35m]) > 0")).containsExactly("h");
    }

    @Test
    void functionsAreNoNamesButTheirArgumentsAre() {
        assertThat(PromQlNames.in("absent(a) or vector(0) + time() - scalar(b) + (c atan2 d)")).containsExactly("a",
                "b", "c", "d");
        assertThat(PromQlNames.in("increase (a[5m])")).as("white space before the parenthesis").containsExactly("a");
    }

    @Test
    void stringsMayHoldAnythingEvenQuotesAndBraces() {
        assertThat(PromQlNames
            .in("label_replace(up, \"dst\", \"not_a_metric $1\", \"src\", \"(.*)\") + x{a=\"q\\\"uote } [b]\"} + y{a=`raw \\`}"))
            .containsExactly("up", "x", "y");
        assertThat(PromQlNames.in("z{a='it\\'s'}")).containsExactly("z");
    }

    @Test
    void theNameMatcherCountsAndARegularExpressionOnItIsRefused() {
        assertThat(PromQlNames.in("{__name__=\"a_total\", job=\"x\"} + count({__name__=\"b\"})"))
            .containsExactly("a_total", "b");
        assertThatIllegalArgumentException().isThrownBy(() -> PromQlNames.in("{__name__=~\"collab_.*\"}"))
            .withMessageContaining("cannot be checked");
    }

    @Test
    void recordingRulesOfTheFileAreSkippedOthersWithColonsAreNot() {
        assertThat(PromQlNames.in("collab:sweeper_backlog:max >= collab:sweeper_backlog:max offset 35m and other:rule",
                Set.of("collab:sweeper_backlog:max")))
            .containsExactly("other:rule");
    }

    @Test
    void grafanaVariablesAreSkipped() {
        assertThat(PromQlNames
            .in("rate(a{instance=~\"$instance\"}[$__rate_interval]) * $scale + b{instance=~\"${instance:regex}\"} + ${factor}"))
            .containsExactly("a", "b");
    }

    @Test
    void commentsAreSkipped() {
        assertThat(PromQlNames.in("a # and not_this\n + b")).containsExactly("a", "b");
    }

    @Test
    void whatCannotBeReadIsRefused() {
        assertThatIllegalArgumentException().isThrownBy(() -> PromQlNames.in("a{job=\"x}"))
            .withMessageContaining("Unclosed");
        assertThatIllegalArgumentException().isThrownBy(() -> PromQlNames.in("rate(a[5m)"))
            .withMessageContaining("Unclosed '['");
        assertThatIllegalArgumentException().isThrownBy(() -> PromQlNames.in("sum by (le"))
            .withMessageContaining("Unclosed '('");
        assertThatIllegalArgumentException().isThrownBy(() -> PromQlNames.in("sum by (le (a)"))
            .withMessageContaining("'(' inside '('");
    }

}
