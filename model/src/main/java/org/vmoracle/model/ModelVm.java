package org.vmoracle.model;

import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;

/**
 * The model as a {@link VmSystem}: an imperative shell around {@link Model#step}. It is the one
 * class of the model with a mutable field, the current state (the architecture tests allow exactly
 * this); every state it holds is an immutable value. Not thread-safe: the model is the sequential
 * specification.
 */
public final class ModelVm implements VmSystem {
  private State state;

  /** A booted system (BOOT-1). */
  public ModelVm() {
    this(Model.boot());
  }

  /** A system that starts from {@code state}. */
  public ModelVm(State state) {
    this.state = state;
  }

  @Override
  public Result apply(Op op) {
    Outcome o = Model.step(state, op);
    state = o.state();
    return o.result();
  }

  @Override
  public View view() {
    return Model.view(state);
  }

  /** The current state. */
  public State state() {
    return state;
  }
}
