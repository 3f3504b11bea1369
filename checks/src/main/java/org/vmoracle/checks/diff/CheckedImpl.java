package org.vmoracle.checks.diff;

import org.vmoracle.impl.ImplVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;

/**
 * The implementation with its structural invariants checked after every operation: how every impl
 * test drives it (issue 3: "checkInvariants() runs after every step of every impl test"). A broken
 * invariant throws {@link IllegalStateException}.
 */
public final class CheckedImpl implements VmSystem {
  private final ImplVm impl;

  public CheckedImpl(ImplVm impl) {
    this.impl = impl;
  }

  @Override
  public Result apply(Op op) {
    Result r = impl.apply(op);
    impl.checkInvariants();
    return r;
  }

  @Override
  public View view() {
    return impl.view();
  }

  public ImplVm impl() {
    return impl;
  }
}
