package dev.mmca;

/** Base class of the library's unchecked exceptions that are not plain argument errors. */
public class MmcaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MmcaException(String message) {
        super(message);
    }

    public MmcaException(String message, Throwable cause) {
        super(message, cause);
    }
}
