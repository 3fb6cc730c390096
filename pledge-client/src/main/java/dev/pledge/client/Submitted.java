package dev.pledge.client;

/**
 * The coordinator's answer to a create or a decision: the transaction exists (durably logged) with
 * this status. It is not the outcome: await it with {@link PledgeClient#await}.
 */
public record Submitted(String gid, String status) {}
