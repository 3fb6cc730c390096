package dev.pledge.server.tracing;

import dev.pledge.core.Outcome;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.runtime.Transport;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Transport} that opens a client span, child of the transaction's span, around each op
 * call, check-back and delivery, and ends it with the outcome. The span is current while the
 * delegate sends, so {@link Tracing#outgoingHeaders} puts its {@code traceparent} on an op call or
 * check-back; a delivery carries it among the message's headers, which every transport sends on.
 */
final class TracingTransport implements Transport {
  static final AttributeKey<String> BRANCH = AttributeKey.stringKey("pledge.branch");
  static final AttributeKey<String> OP = AttributeKey.stringKey("pledge.op");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("pledge.attempt");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("pledge.outcome");
  static final AttributeKey<String> MESSAGE = AttributeKey.stringKey("pledge.message_id");
  static final AttributeKey<String> SUBSCRIPTION = AttributeKey.stringKey("pledge.subscription");
  static final AttributeKey<String> URL = AttributeKey.stringKey("url.full");

  private final Transport delegate;
  private final TransactionSpans spans;
  private final TextMapPropagator propagator;

  TracingTransport(Transport delegate, TransactionSpans spans, TextMapPropagator propagator) {
    this.delegate = delegate;
    this.spans = spans;
    this.propagator = propagator;
  }

  @Override
  public CompletableFuture<Outcome> call(Effect.CallOp call) {
    Span span =
        spans
            .tracer()
            .spanBuilder("pledge " + call.mode().code() + " " + call.op().label())
            .setParent(spans.contextOf(call.gid()))
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute(TransactionSpans.GID, call.gid().value())
            .setAttribute(BRANCH, call.branchId())
            .setAttribute(OP, call.op().label())
            .setAttribute(ATTEMPT, (long) call.attempt())
            .setAttribute(URL, call.url())
            .startSpan();
    CompletableFuture<Outcome> sent;
    try (Scope current = span.makeCurrent()) {
      sent = delegate.call(call);
    }
    return ended(span, sent);
  }

  @Override
  public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
    Span span =
        spans
            .tracer()
            .spanBuilder("pledge msg check")
            .setParent(spans.contextOf(check.gid()))
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute(TransactionSpans.GID, check.gid().value())
            .setAttribute(ATTEMPT, (long) check.attempt())
            .setAttribute(URL, check.checkUrl())
            .startSpan();
    CompletableFuture<Outcome> sent;
    try (Scope current = span.makeCurrent()) {
      sent = delegate.checkBack(check);
    }
    return ended(span, sent);
  }

  @Override
  public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
    Span span =
        spans
            .tracer()
            .spanBuilder("pledge deliver " + delivery.topic())
            .setParent(spans.contextOf(delivery.gid()))
            .setSpanKind(SpanKind.PRODUCER)
            .setAttribute(TransactionSpans.GID, delivery.gid().value())
            .setAttribute(MESSAGE, delivery.messageId())
            .setAttribute(SUBSCRIPTION, delivery.subscription())
            .setAttribute(ATTEMPT, (long) delivery.attempt())
            .startSpan();
    Map<String, String> headers = new LinkedHashMap<>(delivery.headers());
    propagator.inject(
        Context.root().with(span),
        headers,
        (sink, name, value) -> {
          if (sink != null) {
            sink.put(name, value);
          }
        });
    Effect.Deliver traced =
        new Effect.Deliver(
            delivery.gid(),
            delivery.messageId(),
            delivery.subscription(),
            delivery.attempt(),
            delivery.topic(),
            delivery.key(),
            delivery.payload(),
            Map.copyOf(headers));
    CompletableFuture<Outcome> sent;
    try (Scope current = span.makeCurrent()) {
      sent = delegate.deliver(traced, target);
    }
    return ended(span, sent);
  }

  private static CompletableFuture<Outcome> ended(Span span, CompletableFuture<Outcome> sent) {
    return sent.whenComplete((outcome, failure) -> {
      if (failure != null) {
        span.recordException(failure);
        span.setStatus(StatusCode.ERROR);
      } else {
        span.setAttribute(OUTCOME, label(outcome));
        switch (outcome) {
          case Outcome.Succeeded s -> {}
          case Outcome.Pending p -> {}
          case Outcome.Failed f -> span.setStatus(StatusCode.ERROR, f.reason());
          case Outcome.Unknown u -> span.setStatus(StatusCode.ERROR, u.reason());
        }
      }
      span.end();
    });
  }

  private static String label(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Succeeded s -> "succeeded";
      case Outcome.Failed f -> "failed";
      case Outcome.Pending p -> "pending";
      case Outcome.Unknown u -> "unknown";
    };
  }
}
