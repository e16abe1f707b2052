package dev.collab.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operator kit checked against the server it watches: every metric that a rule of
 * {@code deploy/prometheus/collab-server.rules.yml} or a query of
 * {@code deploy/grafana/collab-server.json} reads is exported by
 * {@code /actuator/prometheus} under exactly that name (a renamed meter, or a
 * {@code _total}, {@code _bucket} or {@code _seconds} suffix got wrong, would leave an
 * alert that never fires and a panel that stays empty). Also: the files parse, every
 * alert is labelled, annotated and has a runbook anchor in docs/operations.md, the
 * promtool tests make every alert fire and stay quiet, and every panel has a title and a
 * query. promtool itself runs in {@code deploy/prometheus/check.sh}.
 */
@IntegrationTest
class OperatorKitMetricsTest {

    private static final Path RULES = Path.of("deploy/prometheus/collab-server.rules.yml");

    private static final Path RULE_TESTS = Path.of("deploy/prometheus/collab-server.rules.test.yml");

    private static final Path DASHBOARD = Path.of("deploy/grafana/collab-server.json");

    private static final Path OPERATIONS = Path.of("docs/operations.md");

    /**
     * Series the rules and the dashboard may read that collab-server does not export, and
     * where they come from. Every entry must be used, and none may be exported by the
     * server: an entry too many would hide a typo.
     */
    private static final Map<String, String> NOT_FROM_THE_SERVER = Map.of(
            // Written by Prometheus for every scrape target: 1 scraped, 0 failed
            // (CollabScrapeFailing).
            "up", "Prometheus, per scrape target");

    private static final Set<String> SEVERITIES = Set.of("critical", "warning");

    private static final Set<String> SCOPES = Set.of("instance", "cluster");

    private static final Pattern GRAFANA_LABEL_VALUES = Pattern
        .compile("^\\s*label_values\\((.*),\\s*[a-zA-Z_][a-zA-Z0-9_]*\\s*\\)\\s*$", Pattern.DOTALL);

    @Autowired
    Api api;

    @Test
    void everyMetricOfTheRulesAndTheDashboardIsExported() {
        // Some series appear only with use: the request timer and its buckets, a GC
        // pause.
        assertThat(api.get("/api/projects").status()).isEqualTo(200);
        assertThat(api.anonymous().get("/api/projects").status()).isEqualTo(401);
        System.gc();
        await().atMost(Duration.ofSeconds(30)).until(() -> exported().contains("jvm_gc_pause_seconds_count"));

        Set<String> exported = exported();
        Map<String, Set<String>> used = usedNames();
        Map<String, Set<String>> missing = new TreeMap<>();
        used.forEach((name, where) -> {
            if (!exported.contains(name) && !NOT_FROM_THE_SERVER.containsKey(name)) {
                missing.put(name, where);
            }
        });
        assertThat(missing)
            .as("metrics that deploy/prometheus and deploy/grafana read but /actuator/prometheus does not export "
                    + "(name=[where it is read])")
            .isEmpty();
        assertThat(NOT_FROM_THE_SERVER.keySet()).as("allow-listed names that nothing reads")
            .allMatch(used::containsKey);
        assertThat(NOT_FROM_THE_SERVER.keySet()).as("allow-listed names that the server exports itself")
            .noneMatch(exported::contains);
    }

    @Test
    void everyAlertIsLabelledAnnotatedAndHasARunbookInTheOperationsGuide() {
        Set<String> anchors = anchors(read(OPERATIONS));
        Set<String> names = new HashSet<>();
        List<Map<String, Object>> alerts = alerts();
        assertThat(alerts).isNotEmpty();
        for (Map<String, Object> alert : alerts) {
            String name = (String) alert.get("alert");
            assertThat(names.add(name)).as("alert %s defined once", name).isTrue();
            assertThat(name).as("alert name").matches("Collab[A-Z][A-Za-z0-9]+");
            Map<String, Object> labels = map(alert.get("labels"));
            assertThat(labels.get("severity")).as("%s: severity", name).isIn(SEVERITIES);
            assertThat(labels.get("scope")).as("%s: scope", name).isIn(SCOPES);
            Map<String, Object> annotations = map(alert.get("annotations"));
            assertThat(annotations.keySet()).as("%s: annotations", name)
                .containsExactlyInAnyOrder("summary", "description", "runbook_url");
            assertThat((String) annotations.get("summary")).as("%s: summary", name).isNotBlank();
            assertThat((String) annotations.get("description")).as("%s: description", name).isNotBlank();
            String anchor = name.toLowerCase(Locale.ROOT);
            assertThat(annotations.get("runbook_url")).as("%s: runbook_url", name)
                .isEqualTo("docs/operations.md#" + anchor);
            assertThat(anchors).as("%s: its runbook anchor in docs/operations.md", name).contains(anchor);
        }
        assertThat(names).as("alerts the issue asks for")
            .contains("CollabSweeperBacklogNotShrinking", "CollabWorkspaceRemovalFailed", "CollabSweeperNotRunning",
                    "CollabRunsLost", "CollabStreamsClosedAsSlow", "CollabEventBatchFallbacks",
                    "CollabRunOutputAppendsFailing", "CollabRunOutputDropped", "CollabDbPoolPending",
                    "CollabDbConnectionTimeouts", "CollabReadinessFlapping", "CollabLoginFailuresSpiking",
                    "CollabHigh5xxRate", "CollabNotReady", "CollabErrorLogs", "CollabSweeperBlocked",
                    "CollabSweepFailed", "CollabStreamReadsTimedOut", "CollabMetricsAbsent");
    }

    /**
     * promtool checks what the tests expect; this checks that they expect enough: each
     * alert fires in one case and stays quiet in another, an alert of scope
     * {@code instance} keeps the instance label and one of scope {@code cluster} has
     * none, and each recording rule's values are compared.
     */
    @Test
    void theRuleTestsMakeEveryAlertFireAndStayQuietAndCheckEveryRecordingRule() {
        Map<String, Object> file = map(yaml(RULE_TESTS));
        assertThat(list(file.get("rule_files"))).containsExactly(RULES.getFileName().toString());
        Set<String> firing = new HashSet<>();
        Set<String> quiet = new HashSet<>();
        Set<String> checkedExpressions = new HashSet<>();
        Map<String, String> scopes = new LinkedHashMap<>();
        alerts()
            .forEach(alert -> scopes.put((String) alert.get("alert"), (String) map(alert.get("labels")).get("scope")));
        for (Object test : list(file.get("tests"))) {
            for (Object check : list(map(test).getOrDefault("alert_rule_test", List.of()))) {
                String name = (String) map(check).get("alertname");
                assertThat(scopes).as("alerts of the rules file").containsKey(name);
                List<Object> expected = list(map(check).getOrDefault("exp_alerts", List.of()));
                if (expected.isEmpty()) {
                    quiet.add(name);
                }
                else {
                    firing.add(name);
                }
                for (Object alert : expected) {
                    Map<String, Object> labels = map(map(alert).get("exp_labels"));
                    boolean perInstance = scopes.get(name).equals("instance");
                    assertThat(labels.containsKey("instance"))
                        .as("%s (scope %s) fires with an instance label", name, scopes.get(name))
                        .isEqualTo(perInstance);
                }
            }
            for (Object check : list(map(test).getOrDefault("promql_expr_test", List.of()))) {
                checkedExpressions.add((String) map(check).get("expr"));
            }
        }
        assertThat(scopes.keySet()).as("alerts without a case where they fire").isSubsetOf(firing);
        assertThat(scopes.keySet()).as("alerts without a case where they stay quiet").isSubsetOf(quiet);
        for (String recorded : recordingRules()) {
            assertThat(checkedExpressions).as("a promql_expr_test of recording rule %s", recorded)
                .anyMatch(expr -> PromQlNames.in(expr).contains(recorded));
        }
    }

    @Test
    void theDashboardHasItsVariablesAndEveryPanelATitleAndAQuery() {
        JsonNode dashboard = Api.JSON.readTree(read(DASHBOARD));
        assertThat(dashboard.get("schemaVersion").asInt()).isBetween(36, 41);
        assertThat(dashboard.get("uid").asString()).isEqualTo("collab-server");
        Map<String, JsonNode> variables = new LinkedHashMap<>();
        for (JsonNode variable : dashboard.get("templating").get("list")) {
            variables.put(variable.get("name").asString(), variable);
        }
        assertThat(variables).containsKeys("DS_PROMETHEUS", "instance");
        assertThat(variables.get("DS_PROMETHEUS").get("type").asString()).isEqualTo("datasource");
        assertThat(variables.get("DS_PROMETHEUS").get("query").asString()).isEqualTo("prometheus");
        JsonNode instance = variables.get("instance");
        assertThat(instance.get("type").asString()).isEqualTo("query");
        assertThat(instance.get("includeAll").asBoolean()).isTrue();
        assertThat(instance.get("multi").asBoolean()).isTrue();
        assertThat(instance.get("datasource").get("uid").asString()).isEqualTo("${DS_PROMETHEUS}");

        Set<Integer> ids = new HashSet<>();
        List<JsonNode> panels = panels(dashboard);
        assertThat(panels).hasSizeGreaterThan(20);
        for (JsonNode panel : panels) {
            String title = panel.path("title").asString();
            assertThat(title).as("a panel's title (panel %s)", panel.path("id")).isNotBlank();
            assertThat(ids.add(panel.get("id").asInt())).as("%s: its id is unique", title).isTrue();
            assertThat(panel.has("gridPos")).as("%s: gridPos", title).isTrue();
            if (panel.get("type").asString().equals("row")) {
                continue;
            }
            assertThat(panel.get("datasource").get("uid").asString()).as("%s: datasource", title)
                .isEqualTo("${DS_PROMETHEUS}");
            assertThat(panel.path("targets").size()).as("%s: targets", title).isPositive();
            for (JsonNode target : panel.get("targets")) {
                assertThat(target.path("expr").asString()).as("%s: a target's expr", title).isNotBlank();
            }
        }
    }

    /**
     * Every metric name the rules and the dashboard read, with where: a rule, a panel, a
     * variable.
     */
    private static Map<String, Set<String>> usedNames() {
        Set<String> recorded = recordingRules();
        Map<String, Set<String>> used = new TreeMap<>();
        for (Object rule : rules()) {
            Map<String, Object> fields = map(rule);
            String where = fields.containsKey("alert") ? "alert " + fields.get("alert")
                    : "recording rule " + fields.get("record");
            for (String name : PromQlNames.in((String) fields.get("expr"), recorded)) {
                used.computeIfAbsent(name, n -> new LinkedHashSet<>()).add(where);
            }
        }
        JsonNode dashboard = Api.JSON.readTree(read(DASHBOARD));
        for (JsonNode panel : panels(dashboard)) {
            for (JsonNode target : panel.path("targets")) {
                for (String name : PromQlNames.in(target.get("expr").asString(), recorded)) {
                    used.computeIfAbsent(name, n -> new LinkedHashSet<>())
                        .add("panel '" + panel.get("title").asString() + "'");
                }
            }
        }
        for (JsonNode variable : dashboard.get("templating").get("list")) {
            if (variable.get("type").asString().equals("query")) {
                String query = variable.get("definition").asString();
                Matcher labelValues = GRAFANA_LABEL_VALUES.matcher(query);
                for (String name : PromQlNames.in(labelValues.matches() ? labelValues.group(1) : query, recorded)) {
                    used.computeIfAbsent(name, n -> new LinkedHashSet<>())
                        .add("variable " + variable.get("name").asString());
                }
            }
        }
        return used;
    }

    /** The names of the series /actuator/prometheus serves now. */
    private Set<String> exported() {
        Api.Response scrape = api.get("/actuator/prometheus");
        assertThat(scrape.status()).isEqualTo(200);
        Set<String> names = new HashSet<>();
        for (String line : scrape.text().split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }

    /** Every panel, also those inside a collapsed row. */
    private static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            panels.add(panel);
            for (JsonNode inner : panel.path("panels")) {
                panels.add(inner);
            }
        }
        return panels;
    }

    private static List<Object> rules() {
        List<Object> rules = new ArrayList<>();
        for (Object group : list(map(yaml(RULES)).get("groups"))) {
            rules.addAll(list(map(group).get("rules")));
        }
        return rules;
    }

    private static List<Map<String, Object>> alerts() {
        return rules().stream().map(OperatorKitMetricsTest::map).filter(rule -> rule.containsKey("alert")).toList();
    }

    private static Set<String> recordingRules() {
        Set<String> recorded = new LinkedHashSet<>();
        for (Object rule : rules()) {
            Object name = map(rule).get("record");
            if (name != null) {
                recorded.add((String) name);
            }
        }
        return recorded;
    }

    /**
     * The anchors of a Markdown document: {@code <a id="…">} and GitHub's heading anchors
     * (lower case, punctuation dropped, spaces made hyphens).
     */
    private static Set<String> anchors(String markdown) {
        Set<String> anchors = new HashSet<>();
        Matcher ids = Pattern.compile("<a id=\"([^\"]+)\"").matcher(markdown);
        while (ids.find()) {
            anchors.add(ids.group(1));
        }
        Matcher headings = Pattern.compile("(?m)^#{1,6} (.+)$").matcher(markdown);
        while (headings.find()) {
            anchors
                .add(headings.group(1).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
        }
        return anchors;
    }

    private static Object yaml(Path path) {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(read(path));
    }

    private static String read(Path path) {
        try {
            return Files.readString(path);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object yaml) {
        assertThat(yaml).isInstanceOf(Map.class);
        return (Map<String, Object>) yaml;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object yaml) {
        assertThat(yaml).isInstanceOf(List.class);
        return (List<Object>) yaml;
    }

}
