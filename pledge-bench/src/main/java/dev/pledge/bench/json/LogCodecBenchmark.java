package dev.pledge.bench.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.module.blackbird.BlackbirdModule;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import dev.pledge.store.jdbc.TransactionCodec;
import java.io.IOException;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the log's JSON costs per state, and whether Jackson's Blackbird module or a hand-written
 * streaming codec would pay (docs/http-client-choice.md, "JSON"). The state is a saga-2 after its
 * first action succeeded, as the log writes it mid-flight (about 900 bytes of JSON).
 *
 * <ul>
 *   <li>{@code codecEncode}, {@code codecDecode}: {@code TransactionCodec} as the log uses it (a
 *       plain {@code ObjectMapper}, Jackson's tree model, field by field).
 *   <li>{@code treeRoundTripPlain}, {@code treeRoundTripBlackbird}: the same document read into a
 *       tree and written back, by a plain mapper and by one with {@code BlackbirdModule}
 *       registered. Blackbird replaces reflection in bean (de)serializers with generated lambdas;
 *       the codec uses no bean serializer, so this pair shows whether it changes anything at all.
 *   <li>{@code streamingCopy}: the document tokenised by a {@code JsonParser} and written by a
 *       {@code JsonGenerator} with no tree in between: the floor under any hand-written streaming
 *       codec of the same layout (it must at least read and write every token).
 * </ul>
 *
 * <p>Run: {@code java -jar pledge-bench/target/benchmarks.jar LogCodecBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(org.openjdk.jmh.annotations.Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
public class LogCodecBenchmark {
  private static final Instant T0 = Instant.parse("2026-12-04T12:00:00Z");
  private static final String PAYLOAD = "{\"order\":\"o-1042\",\"line\":1,\"amount\":100}";

  private final TransactionCodec codec = new TransactionCodec();
  private final ObjectMapper plain = new ObjectMapper();
  private final ObjectMapper blackbird = new ObjectMapper().registerModule(new BlackbirdModule());
  private final JsonFactory factory = new JsonFactory();
  private Transaction state;
  private String json;

  @Setup
  public void setUp() {
    Engine engine = new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT);
    List<BranchSpec> steps = List.of(branch("b1"), branch("b2"));
    Transaction begun =
        engine
            .start(
                new TransactionSpec(
                    Gid.of("bench-20261204-saga-2-000042"),
                    Mode.SAGA,
                    Duration.ofSeconds(60),
                    steps,
                    null,
                    null),
                T0)
            .next();
    state =
        engine
            .decide(
                begun,
                new Event.OpCompleted("b1", Op.ACTION, 1, Outcome.SUCCEEDED),
                T0.plusMillis(3))
            .next();
    if (state.status() != Status.BEGUN) {
      throw new IllegalStateException("set-up: expected the saga in flight, got " + state.status());
    }
    json = codec.encode(state);
    if (!codec.decode(json).equals(state)) {
      throw new IllegalStateException("set-up: the codec does not round-trip the state");
    }
  }

  private static BranchSpec branch(String id) {
    return new BranchSpec(
        id,
        Map.of(
            Op.ACTION, "http://127.0.0.1:9001/op",
            Op.COMPENSATE, "http://127.0.0.1:9001/op"),
        PAYLOAD,
        null);
  }

  @Benchmark
  public String codecEncode() {
    return codec.encode(state);
  }

  @Benchmark
  public Transaction codecDecode() {
    return codec.decode(json);
  }

  @Benchmark
  public String treeRoundTripPlain() throws IOException {
    return plain.writeValueAsString(plain.readTree(json));
  }

  @Benchmark
  public String treeRoundTripBlackbird() throws IOException {
    return blackbird.writeValueAsString(blackbird.readTree(json));
  }

  @Benchmark
  public String streamingCopy() throws IOException {
    StringWriter out = new StringWriter(json.length() + 16);
    try (JsonParser parser = factory.createParser(json);
        JsonGenerator generator = factory.createGenerator(out)) {
      parser.nextToken();
      generator.copyCurrentStructure(parser);
    }
    return out.toString();
  }
}
