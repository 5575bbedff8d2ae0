package dev.mmca.backend;

import dev.mmca.MmcaException;

/** Thrown when a backend was asked for by name but cannot run here, or cannot run the given config. */
public class BackendUnavailableException extends MmcaException {
    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String message) {
        super(message);
    }
}
