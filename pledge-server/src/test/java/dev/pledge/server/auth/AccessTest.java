package dev.pledge.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AccessTest {
  @ParameterizedTest(name = "{0} {1} needs {2}")
  @CsvSource({
    "GET, /health, open",
    "GET, /console, open",
    "GET, /console/, open",
    "HEAD, /console/console.js, open",
    "POST, /console/, operator",
    "POST, /health, operator",
    "POST, /api/v1/transactions, client",
    "GET, /api/v1/transactions/order-1, client",
    "GET, /api/v1/transactions/order-1/history, client",
    "POST, /api/v1/transactions/order-1/branches, client",
    "POST, /api/v1/transactions/order-1/commit, client",
    "POST, /api/v1/transactions/order-1/abort, client",
    "GET, /api/v1/transactions, operator",
    "GET, /api/v1/counts, operator",
    "GET, /metrics, operator",
    "POST, /api/v1/transactions/order-1/retry, operator",
    "POST, /api/v1/transactions/order-1/force, operator",
    "PUT, /api/v1/subscriptions/shipping, operator",
    "GET, /api/v1/deliveries, operator",
    "POST, /api/v1/deliveries/redrive, operator",
    "GET, /api/v1/audit, operator",
    "DELETE, /api/v1/transactions/order-1, operator",
    "GET, /api/v1/transactions/a/b/history, operator",
    "GET, /api/v2/anything, operator",
  })
  void eachRoute_needsItsRole(String method, String path, String role) {
    Role required = Access.required(method, path);

    assertThat(required == null ? "open" : required.label()).isEqualTo(role);
  }

  @ParameterizedTest
  @CsvSource({
    "client, client, true",
    "client, operator, false",
    "operator, client, true",
    "operator, operator, true"
  })
  void anOperatorMayDoWhatAClientMay_notTheOtherWayRound(
      String role, String required, boolean covers) {
    assertThat(Role.fromLabel(role).covers(Role.fromLabel(required))).isEqualTo(covers);
  }
}
