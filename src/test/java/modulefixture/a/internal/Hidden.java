package modulefixture.a.internal;

/** Internal to module a (a sub-package): no other module may use it. */
public class Hidden {

}
