package modulefixture.b;

import modulefixture.a.A;
import modulefixture.a.internal.Hidden;

/** Module b: uses a (the other half of the cycle) and a's internal type. */
public class B {

    /** The dependency back on a. */
    public A a() {
        return new A();
    }

    /** The reach into a's internals. */
    public Hidden hidden() {
        return new Hidden();
    }

}
