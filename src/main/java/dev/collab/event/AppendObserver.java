package dev.collab.event;

/**
 * Told of every event after its append committed, on the appending thread: the live
 * streams use it to wake their subscribers here and on other instances. Keep it short and
 * never throw: the event is committed whatever an observer does.
 */
public interface AppendObserver {

    void appended(Event event);

}
