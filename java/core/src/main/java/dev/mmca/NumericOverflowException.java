package dev.mmca;

/**
 * Finite inputs whose computation exceeds float32 (a projection or an attention score beyond about 3.4e38):
 * every backend refuses to return such a result, naming the operation and where it overflowed, instead of
 * passing on infinities, NaN or silently wrong values.
 */
public class NumericOverflowException extends MmcaException {
    private static final long serialVersionUID = 1L;

    public NumericOverflowException(String message) {
        super(message);
    }
}
