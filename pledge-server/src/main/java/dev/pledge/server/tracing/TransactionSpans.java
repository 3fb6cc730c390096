package dev.pledge.server.tracing;

import dev.pledge.core.Gid;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.runtime.RuntimeListener;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One span per global transaction, open from the first write this coordinator sees until the
 * transaction is settled (final, every delivery done; {@link #finalized} is told after every
 * transition of the write), with an event per transition. Its parent is the context current when
 * the transaction is first seen: the creating request's {@code traceparent} ({@link
 * Tracing#inRequest}), or none for a transaction recovered from the log.
 *
 * <p>At most {@code maxOpen} are open at once: a transaction this coordinator stops driving
 * (another coordinator took it) would otherwise keep its span for ever. Past the bound the oldest
 * is ended early, marked {@code pledge.evicted=true}; its later calls start traces of their own.
 */
final class TransactionSpans implements RuntimeListener {
  static final AttributeKey<String> GID = AttributeKey.stringKey("pledge.gid");
  static final AttributeKey<String> MODE = AttributeKey.stringKey("pledge.mode");
  static final AttributeKey<String> STATUS = AttributeKey.stringKey("pledge.status");
  static final AttributeKey<Boolean> EVICTED = AttributeKey.booleanKey("pledge.evicted");
  static final AttributeKey<String> FROM = AttributeKey.stringKey("pledge.from");
  static final AttributeKey<String> TO = AttributeKey.stringKey("pledge.to");
  static final AttributeKey<String> TRIGGER = AttributeKey.stringKey("pledge.trigger");

  private final Tracer tracer;
  private final int maxOpen;

  /** Guarded by itself; insertion order is age order, for eviction. */
  private final LinkedHashMap<Gid, Span> open = new LinkedHashMap<>();

  TransactionSpans(Tracer tracer, int maxOpen) {
    this.tracer = tracer;
    this.maxOpen = maxOpen;
  }

  /** The context a call of {@code gid} runs in: its transaction's span, or the current one. */
  Context contextOf(Gid gid) {
    Span span;
    synchronized (open) {
      span = open.get(gid);
    }
    return span == null ? Context.current() : Context.root().with(span);
  }

  Tracer tracer() {
    return tracer;
  }

  int open() {
    synchronized (open) {
      return open.size();
    }
  }

  @Override
  public void transitioned(Transaction tx, Transition row) {
    Span span = spanOf(tx);
    span.addEvent(
        "transition",
        Attributes.of(
            FROM,
            row.from() == null ? "" : row.from().label(),
            TO,
            row.to().label(),
            TRIGGER,
            row.trigger().toString()));
  }

  @Override
  public void finalized(Transaction tx) {
    endIfSettled(tx);
  }

  @Override
  public void fenced(Transaction tx, RuntimeException failure) {
    Span span;
    synchronized (open) {
      span = open.remove(tx.gid());
    }
    if (span != null) {
      span.setAttribute("pledge.fenced", true);
      span.end();
    }
  }

  private Span spanOf(Transaction tx) {
    Span evicted = null;
    Span span;
    synchronized (open) {
      span = open.get(tx.gid());
      if (span == null) {
        span =
            tracer
                .spanBuilder("pledge " + tx.mode().code())
                .setParent(Context.current())
                .setSpanKind(SpanKind.INTERNAL)
                .setStartTimestamp(tx.createdAt())
                .setAttribute(GID, tx.gid().value())
                .setAttribute(MODE, tx.mode().code())
                .startSpan();
        if (open.size() >= maxOpen) {
          Iterator<Map.Entry<Gid, Span>> oldest = open.entrySet().iterator();
          evicted = oldest.next().getValue();
          oldest.remove();
        }
        open.put(tx.gid(), span);
      }
    }
    if (evicted != null) {
      evicted.setAttribute(EVICTED, true);
      evicted.end();
    }
    return span;
  }

  private void endIfSettled(Transaction tx) {
    if (!tx.isSettled()) {
      return;
    }
    Span span;
    synchronized (open) {
      span = open.remove(tx.gid());
    }
    if (span != null) {
      // An abort is an outcome, not an error of the coordinator: the span's status stays unset.
      span.setAttribute(STATUS, tx.status().label());
      span.end();
    }
  }
}
