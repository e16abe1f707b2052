package dev.collab.web;

/**
 * Whether the database answered its last health check, made on a connection of its own
 * (not the pool's) and recently: what tells an exhausted pool from a database that is
 * away.
 */
public interface DatabaseReachability {

    boolean recentlyReachable();

}
