package dev.pledge.bench.load;

import java.util.Locale;

/** The two databases the benchmark runs on: the embedded default and the shared server. */
enum DbKind {
  SQLITE("sqlite", "SQLite"),
  POSTGRES("postgres", "PostgreSQL");

  final String code;
  final String label;

  DbKind(String code, String label) {
    this.code = code;
    this.label = label;
  }

  static DbKind fromCode(String code) {
    for (DbKind kind : values()) {
      if (kind.code.equals(code.toLowerCase(Locale.ROOT))) {
        return kind;
      }
    }
    throw new IllegalArgumentException("database must be sqlite or postgres, got '" + code + "'");
  }
}
