package modulefixture.a;

import modulefixture.b.B;

/** Module a's API, which uses module b: one half of the cycle. */
public class A {

    /** The dependency on b. */
    public B b() {
        return new B();
    }

}
