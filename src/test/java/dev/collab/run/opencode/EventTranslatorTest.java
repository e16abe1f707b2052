package dev.collab.run.opencode;

import java.util.ArrayList;
import java.util.List;

import dev.collab.run.AgentEvent;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The translation's edge cases, one opencode event at a time (the whole transcript is
 * {@link OpencodeDriverTest}'s).
 */
class EventTranslatorTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final List<AgentEvent> events = new ArrayList<>();

    private final EventTranslator translator = new EventTranslator("ses_A", this.events::add);

    private EventTranslator.Step handle(String json) {
        return this.translator.handle(JSON.readTree(json.replace('\'', '"')));
    }

    private static String tool(String status, String stateRest) {
        return "{'type':'message.part.updated','properties':{'part':{'id':'prt_1','sessionID':'ses_A','messageID':'msg_1',"
                + "'type':'tool','callID':'call_1','tool':'bash','state':{'status':'" + status
                + "','input':{'command':'ls'}" + stateRest + "}}}}";
    }

    @Test
    void aStepWithoutACostHasANullCost() {
        handle("{'type':'message.part.updated','properties':{'part':{'id':'prt_9','sessionID':'ses_A','messageID':'msg_1',"
                + "'type':'step-finish','tokens':{'input':5,'output':7}}}}");

        assertThat(this.events).singleElement().satisfies(event -> {
            assertThat(event.type()).isEqualTo("usage");
            assertThat(event.data()).containsEntry("inputTokens", 5L).containsEntry("outputTokens", 7L);
            assertThat(JSON.writeValueAsString(event.data())).contains("\"costUsd\":null");
        });
    }

    @Test
    void aLongToolOutputIsCutWithItsLengthSaid() {
        String output = "x".repeat(EventTranslator.MAX_TOOL_CHARS + 10);
        handle(tool("completed", ",'output':'" + output + "'"));

        assertThat(this.events).extracting(AgentEvent::type).containsExactly("tool.call", "tool.result");
        assertThat(this.events.get(1).data()).containsEntry("truncated", true)
            .containsEntry("outputChars", EventTranslator.MAX_TOOL_CHARS + 10)
            .hasEntrySatisfying("output", value -> assertThat((String) value).hasSize(EventTranslator.MAX_TOOL_CHARS));
    }

    @Test
    void aHugeInputKeepsItsShapeButNotItsContent() {
        handle(tool("running", "").replace("'ls'", "'" + "y".repeat(EventTranslator.MAX_TOOL_CHARS) + "'"));

        JsonNode input = (JsonNode) this.events.get(0).data().get("input");
        assertThat(input.path("truncated").asBoolean()).isTrue();
        assertThat(input.path("inputChars").asInt()).isGreaterThan(EventTranslator.MAX_TOOL_CHARS);
    }

    @Test
    void aToolIsCalledOnceAndFinishedOnceHoweverOftenItIsUpdated() {
        handle(tool("pending", ",'raw':''"));
        handle(tool("running", ""));
        handle(tool("running", ",'title':'ls'"));
        handle(tool("completed", ",'output':'a'"));
        handle(tool("completed", ",'output':'a','time':{'compacted':1}"));

        assertThat(this.events).extracting(AgentEvent::type).containsExactly("tool.call", "tool.result");
    }

    @Test
    void aTextThatNeverSaysItEndedIsKeptWhenTheSessionIsIdle() {
        handle("{'type':'message.part.updated','properties':{'part':{'id':'prt_t','sessionID':'ses_A','messageID':'msg_1',"
                + "'type':'text','text':'partial answer'}}}");
        assertThat(this.events).isEmpty();

        assertThat(handle("{'type':'session.status','properties':{'sessionID':'ses_A','status':{'type':'idle'}}}"))
            .isInstanceOf(EventTranslator.Step.Idle.class);
        assertThat(this.events).singleElement()
            .satisfies(event -> assertThat(event.data()).containsEntry("text", "partial answer"));
    }

    @Test
    void otherSessionsEndNothingButAServerErrorWithoutSessionDoes() {
        assertThat(handle("{'type':'session.idle','properties':{'sessionID':'ses_B'}}"))
            .isInstanceOf(EventTranslator.Step.Continue.class);
        assertThat(
                handle("{'type':'session.error','properties':{'sessionID':'ses_B','error':{'name':'UnknownError'}}}"))
            .isInstanceOf(EventTranslator.Step.Continue.class);
        assertThat(handle(
                "{'type':'permission.asked','properties':{'id':'per_1','sessionID':'ses_B','permission':'bash'}}"))
            .isInstanceOf(EventTranslator.Step.Continue.class);
        assertThat(handle("{'type':'something.new','properties':{'sessionID':'ses_A'}}"))
            .isInstanceOf(EventTranslator.Step.Continue.class);
        assertThat(handle(
                "{'type':'session.error','properties':{'error':{'name':'UnknownError','data':{'message':'boom'}}}}"))
            .isEqualTo(new EventTranslator.Step.Failed("UnknownError: boom"));
        assertThat(this.events).isEmpty();
    }

    @Test
    void aPermissionForAToolNotSeenYetDescribesItselfByItsPatterns() {
        EventTranslator.Step step = handle(
                "{'type':'permission.asked','properties':{'id':'per_1','sessionID':'ses_A','permission':'external_directory',"
                        + "'patterns':['/etc/*'],'metadata':{},'always':[]}}");

        assertThat(step).isInstanceOfSatisfying(EventTranslator.Step.Permission.class, permission -> {
            assertThat(permission.requestId()).isEqualTo("per_1");
            assertThat(permission.tool()).isEqualTo("external_directory");
            assertThat(permission.input().path("patterns").get(0).asString()).isEqualTo("/etc/*");
        });
    }

    @Test
    void aPermissionRequestSeenTwiceIsAskedOnce() {
        String asked = "{'type':'permission.asked','properties':{'id':'per_2','sessionID':'ses_A','permission':'bash',"
                + "'patterns':['ls'],'metadata':{},'always':[],'tool':{'messageID':'msg_1','callID':'call_1'}}}";
        String legacy = "{'type':'permission.updated','properties':{'id':'per_2','sessionID':'ses_A','type':'bash',"
                + "'pattern':'ls','title':'ls','metadata':{},'callID':'call_1'}}";

        assertThat(handle(asked)).isInstanceOf(EventTranslator.Step.Permission.class);
        assertThat(handle(asked)).isInstanceOf(EventTranslator.Step.Continue.class);
        assertThat(handle(legacy)).isInstanceOf(EventTranslator.Step.Continue.class);
    }

}
