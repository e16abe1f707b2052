package dev.collab.web;

import java.io.IOException;

/** A request body grew past {@code collab.http.max-body-size} while it was being read. */
class PayloadTooLargeException extends IOException {

    PayloadTooLargeException(long limit) {
        super("The request body is larger than the limit of " + limit + " bytes.");
    }

}
