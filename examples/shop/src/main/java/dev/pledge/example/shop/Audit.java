package dev.pledge.example.shop;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeException;
import dev.pledge.client.TransactionView;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The consistency audit of the shop after a run: it reads the four databases and asks the
 * coordinator's API, and checks that every guarantee held. Each check lists what broke it, so an
 * inconsistency names the order, SKU or account concerned.
 */
public final class Audit {
  private static final int MAX_PROBLEMS_SHOWN = 20;
  private static final Set<String> NON_FINAL =
      Set.of("begun", "prepared", "committing", "aborting");

  /** One check: what it verified, and what broke it (nothing when it held). */
  public record Check(String name, String summary, List<String> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  /**
   * The audit's result.
   *
   * @param outcomes per mode ({@code saga}, {@code 2pc}): how many orders were committed, aborted
   *     and left unfinished
   * @param facts what happened on the way, in words: faults, barrier, inbox, aborts by cause
   * @param checks every check, in order
   */
  public record Report(
      Map<String, Map<String, Long>> outcomes, List<String> facts, List<Check> checks) {
    public boolean consistent() {
      return checks.stream().allMatch(Check::ok);
    }

    public long orders(String outcome) {
      return outcomes.values().stream().mapToLong(m -> m.getOrDefault(outcome, 0L)).sum();
    }

    /** The report as text lines. */
    public List<String> lines() {
      List<String> out = new ArrayList<>();
      out.add(
          String.format(
              "%-8s %8s %10s %8s %11s", "mode", "orders", "committed", "aborted", "unfinished"));
      long[] total = new long[4];
      outcomes.forEach((mode, counts) -> {
        long committed = counts.getOrDefault("committed", 0L);
        long aborted = counts.getOrDefault("aborted", 0L);
        long unfinished = counts.getOrDefault("unfinished", 0L);
        long all = committed + aborted + unfinished;
        out.add(String.format("%-8s %8d %10d %8d %11d", mode, all, committed, aborted, unfinished));
        total[0] += all;
        total[1] += committed;
        total[2] += aborted;
        total[3] += unfinished;
      });
      out.add(
          String.format("%-8s %8d %10d %8d %11d", "total", total[0], total[1], total[2], total[3]));
      out.add("");
      out.addAll(facts);
      out.add("");
      for (Check check : checks) {
        out.add((check.ok() ? "[ok]   " : "[FAIL] ") + check.name() + ": " + check.summary());
        int shown = 0;
        for (String problem : check.problems()) {
          if (shown++ == MAX_PROBLEMS_SHOWN) {
            out.add("         … and " + (check.problems().size() - MAX_PROBLEMS_SHOWN) + " more");
            break;
          }
          out.add("         - " + problem);
        }
      }
      return out;
    }
  }

  private Audit() {}

  /**
   * What is still moving, in words; empty once the run has settled: no request in progress in the
   * shop, no transaction non-final in the coordinator, every order-placed message delivered.
   */
  public static List<String> unsettled(Shop shop) {
    List<String> out = new ArrayList<>();
    if (shop.inFlight() > 0) {
      out.add(shop.inFlight() + " requests in progress in the shop");
    }
    long open = 0;
    for (String status : NON_FINAL) {
      open += list(shop.coordinator(), status).size();
    }
    if (open > 0) {
      out.add(open + " transactions not final");
    }
    long undelivered = 0;
    if (shop.broker() != null) {
      long backlog = shop.outboxBacklog();
      if (backlog > 0) {
        out.add(backlog + " outbox rows not acknowledged by " + shop.broker().kind().label());
      }
      Map<String, Long> shipments = shop.shipping().shipmentsByOrder();
      long unshipped =
          shop.orders().orders().stream()
              .filter(o -> o.status().equals("confirmed"))
              .filter(o -> !shipments.containsKey(o.orderId()))
              .count();
      if (unshipped > 0) {
        out.add(unshipped + " confirmed orders not shipped yet");
      }
    }
    for (Orders.Order order : shop.orders().orders()) {
      if (order.status().equals("placing")) {
        out.add(order.orderId() + " still placing");
      } else if (order.msgGid() != null) {
        TransactionView msg = shop.coordinator().get(order.msgGid());
        for (TransactionView.Message message : msg.messages()) {
          for (TransactionView.Delivery delivery : message.deliveries()) {
            if (!delivery.status().equals("succeeded")) {
              undelivered++;
            }
          }
        }
      }
    }
    if (undelivered > 0) {
      out.add(undelivered + " deliveries not acknowledged yet");
    }
    return out;
  }

  /** Audits {@code shop} against its coordinator; the run must be over (nothing in flight). */
  public static Report run(Shop shop) {
    PledgeClient api = shop.coordinator();
    List<Orders.Order> orders = shop.orders().orders();
    List<Check> checks = new ArrayList<>();
    List<String> facts = new ArrayList<>();
    Map<String, Map<String, Long>> outcomes = new LinkedHashMap<>();
    outcomes.put("saga", new LinkedHashMap<>());
    outcomes.put("2pc", new LinkedHashMap<>());

    // 1. Every order final in the order service.
    List<String> unfinished = new ArrayList<>();
    for (Orders.Order order : orders) {
      String outcome =
          switch (order.status()) {
            case "confirmed" -> "committed";
            case "aborted" -> "aborted";
            default -> "unfinished";
          };
      outcomes
          .computeIfAbsent(order.mode(), m -> new LinkedHashMap<>())
          .merge(outcome, 1L, Long::sum);
      if (outcome.equals("unfinished")) {
        unfinished.add(order.orderId() + " is " + order.status());
      }
    }
    checks.add(
        new Check(
            "every order final",
            orders.size() + " orders, each confirmed or aborted in the order service",
            unfinished));

    // 2. The coordinator agrees with every order, and every message reached shipping.
    List<String> disagreements = new ArrayList<>();
    Map<String, Long> abortCauses = new TreeMap<>();
    long messages = 0;
    long deliveries = 0;
    for (Orders.Order order : orders) {
      TransactionView tx = transaction(api, order.gid(), disagreements);
      if (tx == null) {
        continue;
      }
      String status = tx.status();
      String expected = order.status().equals("confirmed") ? "committed" : "aborted";
      if (!tx.isFinal() || !status.equals(expected)) {
        disagreements.add(
            order.orderId() + " is " + order.status() + " but " + order.gid() + " is " + status);
      }
      if (status.equals("aborted")) {
        abortCauses.merge(abortCause(tx), 1L, Long::sum);
      }
      if (order.status().equals("confirmed") && shop.broker() == null) {
        TransactionView msg = transaction(api, order.msgGid(), disagreements);
        if (msg == null) {
          continue;
        }
        messages++;
        if (!msg.status().equals("committed")) {
          disagreements.add(order.msgGid() + " is " + msg.status() + ", not committed");
        }
        for (TransactionView.Message message : msg.messages()) {
          if (message.deliveries().isEmpty()) {
            disagreements.add(order.msgGid() + " has no delivery: no subscription resolved");
          }
          for (TransactionView.Delivery delivery : message.deliveries()) {
            if (delivery.status().equals("succeeded")) {
              deliveries++;
            } else {
              disagreements.add(
                  order.msgGid()
                      + " delivery to "
                      + delivery.subscription()
                      + " is "
                      + delivery.status());
            }
          }
        }
      }
    }
    Map<String, String> producer = shop.orders().producerBarrier();
    long rolledBack = 0;
    for (Map.Entry<String, String> row : producer.entrySet()) {
      if (row.getValue().equals("rolled_back")) {
        rolledBack++;
        TransactionView msg = transaction(api, row.getKey(), disagreements);
        if (msg != null && !msg.status().equals("aborted")) {
          disagreements.add(
              row.getKey() + " was rolled back by its producer but is " + msg.status());
        }
      }
    }
    String carried;
    if (shop.broker() == null) {
      carried =
          messages + " order-placed messages committed, " + deliveries + " deliveries acknowledged";
    } else {
      // Through the outbox: one row per confirmed order, acknowledged by the broker; none for an
      // aborted one.
      Map<String, Long> rows = new HashMap<>();
      long published = 0;
      for (Orders.OutboxRow row : shop.orders().outboxRows()) {
        rows.merge(row.orderId(), 1L, Long::sum);
        if (row.published()) {
          published++;
        } else {
          disagreements.add("the outbox row of " + row.orderId() + " is not published");
        }
      }
      for (Orders.Order order : orders) {
        long expected = order.status().equals("confirmed") ? 1 : 0;
        long count = rows.getOrDefault(order.orderId(), 0L);
        if (count != expected) {
          disagreements.add(
              order.orderId()
                  + " ("
                  + order.status()
                  + ") has "
                  + count
                  + " outbox rows, not "
                  + expected);
        }
      }
      messages = published;
      carried =
          published
              + " order-placed outbox rows published to "
              + shop.broker().kind().label()
              + " ("
              + shop.broker().target().getScheme()
              + "://, acknowledged by the broker)";
    }
    checks.add(
        new Check(
            "the coordinator agrees",
            "each order's transaction has the order's outcome; " + carried,
            disagreements));

    // 3. Nothing left non-final in the coordinator.
    List<String> open = new ArrayList<>();
    for (String status : NON_FINAL) {
      for (TransactionView tx : list(api, status)) {
        open.add(tx.gid() + " is " + status);
      }
    }
    checks.add(
        new Check(
            "no transaction left non-final", "asked the API for every non-final status", open));

    // 4 and 5. Stock and money conserved.
    checks.add(conservation("stock conserved", shop.inventory().ledger(), orders, true));
    checks.add(conservation("money conserved", shop.payment().ledger(), orders, false));

    // 6. One shipment per committed order, none for an aborted one.
    Map<String, Long> shipments = new HashMap<>(shop.shipping().shipmentsByOrder());
    List<String> shippingProblems = new ArrayList<>();
    long shipped = 0;
    for (Orders.Order order : orders) {
      long count = shipments.getOrDefault(order.orderId(), 0L);
      shipments.remove(order.orderId());
      long expected = order.status().equals("confirmed") ? 1 : 0;
      shipped += count;
      if (count != expected) {
        shippingProblems.add(
            order.orderId()
                + " ("
                + order.status()
                + ") has "
                + count
                + " shipments, not "
                + expected);
      }
    }
    shipments.forEach((orderId, count) ->
        shippingProblems.add(count + " shipments for " + orderId + ", which is no order"));
    checks.add(
        new Check(
            "one shipment per committed order, none for an aborted one",
            shipped + " shipments",
            shippingProblems));

    // 7. Barriers.
    List<String> barrierProblems = new ArrayList<>();
    shop.inventory().barrierProblems().forEach(p -> barrierProblems.add("inventory: " + p));
    shop.payment().barrierProblems().forEach(p -> barrierProblems.add("payment: " + p));
    for (Orders.Order order : orders) {
      if (order.status().equals("confirmed")
          && shop.broker() == null
          && !"committed".equals(producer.get(order.msgGid()))) {
        barrierProblems.add(
            "order: "
                + order.orderId()
                + " is confirmed but its barrier row for "
                + order.msgGid()
                + " is "
                + producer.get(order.msgGid()));
      }
    }
    Map<String, Long> inventoryStats = shop.inventory().barrierStats();
    Map<String, Long> paymentStats = shop.payment().barrierStats();
    checks.add(
        new Check(
            "every barrier consistent",
            "no op after its compensation, no commit beside a rollback, no undo of what never ran",
            barrierProblems));
    if (shop.inventory().ledger() instanceof XaLedger inventoryXa
        && shop.payment().ledger() instanceof XaLedger paymentXa) {
      checks.add(preparedLeft(inventoryXa, paymentXa));
      facts.add(
          "inventory on "
              + inventoryXa.branches().dialect().name().toLowerCase(java.util.Locale.ROOT)
              + ", payment on "
              + paymentXa.branches().dialect().name().toLowerCase(java.util.Locale.ROOT)
              + ": each xa branch a prepared transaction of that database (inventory is not"
              + " event-sourced in this mode)");
    }
    if (shop.inventory().events() != null) {
      checks.addAll(stockEvents(shop.inventory()));
    }

    // What happened on the way.
    facts.add("aborted orders by cause: " + (abortCauses.isEmpty() ? "none" : abortCauses));
    facts.add(
        shop.broker() == null
            ? "order-placed: "
                + messages
                + " messages committed, "
                + rolledBack
                + " rolled back by a check-back before the local commit"
            : "order-placed: "
                + messages
                + " messages written to the outbox with their order and relayed to "
                + shop.broker().kind().label()
                + "; shipping consumed them through "
                + shop.broker().kind().label()
                + "'s consumer adapter into its inbox");
    for (Map.Entry<String, Map<Faults.Kind, Long>> service : shop.faults().entrySet()) {
      List<String> kinds = new ArrayList<>();
      service
          .getValue()
          .forEach((kind, count) -> {
            if (kind != Faults.Kind.NONE && count > 0) {
              kinds.add(kind.label() + " " + count);
            }
          });
      long requests = service.getValue().values().stream().mapToLong(Long::longValue).sum();
      if (requests > 0) {
        facts.add(
            "faults injected by "
                + service.getKey()
                + ": "
                + (kinds.isEmpty() ? "none" : String.join(", ", kinds))
                + " (of "
                + requests
                + " requests)");
      }
    }
    facts.add("barrier, inventory: " + describe(inventoryStats));
    facts.add("barrier, payment: " + describe(paymentStats));
    facts.add(
        "shipping inbox: "
            + shop.shipping().duplicatesDropped()
            + " duplicate deliveries acknowledged and dropped");
    facts.add(
        "order service: "
            + api.retriesSent()
            + " coordinator API calls sent again (no answer or 5xx)");
    return new Report(outcomes, facts, checks);
  }

  /** xa: none of the run's branches is left prepared (holding its locks) in either database. */
  private static Check preparedLeft(XaLedger inventory, XaLedger payment) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, XaLedger> books :
        Map.of("inventory", inventory, "payment", payment).entrySet()) {
      try {
        books.getValue().leftPrepared().forEach(p -> problems.add(books.getKey() + ": " + p));
      } catch (SQLException e) {
        problems.add(books.getKey() + ": its prepared transactions cannot be listed: " + e);
      }
    }
    return new Check(
        "no prepared transaction left",
        listing(inventory)
            + " (inventory) and "
            + listing(payment)
            + " (payment) list none of this run's branches",
        problems);
  }

  private static String listing(XaLedger books) {
    return switch (books.branches().dialect()) {
      case POSTGRESQL -> "pg_prepared_xacts";
      case MARIADB -> "XA RECOVER";
      case SQLITE -> "nothing";
    };
  }

  /**
   * Inventory's events: the stock levels rebuilt from the event streams alone must equal the live
   * read model (and the ledger's stock on hand); global positions and every stream's versions run
   * 1, 2, 3, … with no gap.
   */
  private static List<Check> stockEvents(Inventory inventory) {
    StockEvents.Replay replay = StockEvents.replay(inventory.events());
    List<String> problems = new ArrayList<>();
    Map<String, StockEvents.Level> live;
    try {
      live = inventory.stockLevels(Duration.ofSeconds(30));
    } catch (SQLException e) {
      live = Map.of();
      problems.add("the live read model cannot be read: " + e.getMessage());
    }
    Map<String, Long> onHand = inventory.onHand();
    Set<String> skus = new TreeSet<>(replay.levels().keySet());
    skus.addAll(live.keySet());
    for (String sku : skus) {
      StockEvents.Level rebuilt = replay.levels().get(sku);
      StockEvents.Level current = live.get(sku);
      if (!Objects.equals(rebuilt, current)) {
        problems.add(sku + ": rebuilt from the events " + rebuilt + ", live " + current);
      }
      long ledger = onHand.getOrDefault(sku, 0L);
      if (rebuilt != null && rebuilt.available() != ledger) {
        problems.add(
            sku + ": " + rebuilt.available() + " available by the events, " + ledger + " on hand");
      }
    }
    if (replay.levels().isEmpty()) {
      problems.add("no stock events at all");
    }
    return List.of(
        new Check(
            "read model matches the event streams",
            replay.levels().size()
                + " SKUs rebuilt from "
                + replay.events()
                + " events equal the live stock_level table and the stock on hand",
            problems),
        new Check(
            "stream versions have no gaps",
            replay.streams()
                + " streams: every version and every global position follows its predecessor by 1",
            replay.gaps()));
  }

  private static String describe(Map<String, Long> stats) {
    long duplicates = stats.getOrDefault("repeats", 0L);
    long nulls = 0;
    long blocked = 0;
    long refused = 0;
    for (Map.Entry<String, Long> entry : stats.entrySet()) {
      if (entry.getKey().endsWith("/null-compensation")) {
        nulls += entry.getValue();
      } else if (entry.getKey().endsWith("/blocked")) {
        blocked += entry.getValue();
      } else if (entry.getKey().endsWith("/refused")) {
        refused += entry.getValue();
      }
    }
    return duplicates
        + " duplicate ops answered from the barrier, "
        + refused
        + " refusals, "
        + nulls
        + " null compensations, "
        + blocked
        + " hanging ops blocked";
  }

  private static TransactionView transaction(PledgeClient api, String gid, List<String> problems) {
    if (gid == null) {
      problems.add("an order is confirmed without a message gid");
      return null;
    }
    try {
      return api.get(gid);
    } catch (PledgeException e) {
      problems.add(gid + ": " + e.getMessage());
      return null;
    }
  }

  /** Every transaction of {@code status}, page by page (at most 100 pages of 500). */
  private static List<TransactionView> list(PledgeClient api, String status) {
    List<TransactionView> out = new ArrayList<>();
    String cursor = null;
    for (int page = 0; page < 100; page++) {
      PledgeClient.Page got = api.list(status, null, 500, cursor);
      out.addAll(got.items());
      cursor = got.nextCursor();
      if (cursor == null) {
        break;
      }
    }
    return out;
  }

  /** Why an aborted order aborted: the service that said no, or a timeout. */
  private static String abortCause(TransactionView tx) {
    for (TransactionView.Branch branch : tx.branches()) {
      for (TransactionView.OpView op : branch.ops()) {
        if (op.status().equals("failed")) {
          String error = op.lastError() == null ? "" : op.lastError();
          return branch.branchId()
              + " said no ("
              + (error.contains("out_of_stock")
                  ? "out of stock"
                  : error.contains("insufficient_funds")
                      ? "payment refused"
                      : error.contains("blocked") ? "blocked after compensation" : "refused")
              + ")";
        }
      }
    }
    return "timed out";
  }

  private static Check conservation(
      String name, Books ledger, List<Orders.Order> orders, boolean stock) {
    Ledger.Names names = stock ? Inventory.NAMES : Payment.NAMES;
    List<String> problems = new ArrayList<>();
    Map<String, Long> opening = ledger.opening();
    Map<String, Long> onHand = ledger.onHand();
    Map<String, Long> taken = ledger.inState(names.taken());
    Map<String, Long> committed = ledger.inState(names.committed());
    Map<String, Long> held = ledger.inState(names.held());
    Map<String, Long> sold = new TreeMap<>();
    for (Orders.Order order : orders) {
      if (order.status().equals("confirmed")) {
        sold.merge(
            stock ? order.sku() : order.account(), stock ? order.qty() : order.amount(), Long::sum);
      }
    }
    long totalOpening = 0;
    long totalSold = 0;
    for (Map.Entry<String, Long> key : opening.entrySet()) {
      String k = key.getKey();
      long soldHere = sold.getOrDefault(k, 0L);
      long onHandHere = onHand.getOrDefault(k, 0L);
      long takenHere = taken.getOrDefault(k, 0L) + committed.getOrDefault(k, 0L);
      totalOpening += key.getValue();
      totalSold += soldHere;
      if (key.getValue() != onHandHere + soldHere) {
        problems.add(
            k
                + ": opening "
                + key.getValue()
                + " != on hand "
                + onHandHere
                + " + sold to committed orders "
                + soldHere);
      }
      if (takenHere != soldHere) {
        problems.add(
            k
                + ": "
                + takenHere
                + " taken in the ledger, but committed orders account for "
                + soldHere);
      }
      if (held.getOrDefault(k, 0L) != 0) {
        problems.add(k + ": " + held.get(k) + " still held by a 2pc prepare");
      }
    }
    for (String k : sold.keySet()) {
      if (!opening.containsKey(k)) {
        problems.add(k + ": sold to committed orders but never opened");
      }
    }
    Map<String, List<String>> states = ledger.statesByOrder();
    for (Orders.Order order : orders) {
      List<String> entries = states.getOrDefault(order.orderId(), List.of());
      long effective =
          entries.stream()
              .filter(s ->
                  s.equals(names.taken()) || s.equals(names.committed()) || s.equals(names.held()))
              .count();
      long expected = order.status().equals("confirmed") ? 1 : 0;
      if (effective != expected) {
        problems.add(
            order.orderId()
                + " ("
                + order.status()
                + ", "
                + order.mode()
                + "): entries "
                + entries);
      }
    }
    return new Check(
        name,
        String.format(
            "opening %d = on hand %d + sold %d, nothing held",
            totalOpening, onHand.values().stream().mapToLong(Long::longValue).sum(), totalSold),
        problems);
  }
}
