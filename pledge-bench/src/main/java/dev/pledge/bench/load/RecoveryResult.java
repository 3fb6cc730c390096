package dev.pledge.bench.load;

/**
 * What the recovery measurement saw: {@code inFlight} saga-2 transactions created and held in
 * flight, the coordinator killed with -9 and started again at once; times from the restart's launch
 * (a new JVM, as an operator's restart would be).
 *
 * @param db the database kind
 * @param asked transactions asked for ({@code --recovery N})
 * @param inFlight transactions created before the kill: all those asked, or fewer when creating
 *     them ran past {@code Recovery.CREATE_BUDGET}
 * @param heldAtKill of those, how many had a participant call held open at the kill
 * @param submitSeconds how long creating them took
 * @param readySeconds launch to the coordinator's "listening" line
 * @param firstAcceptedSeconds launch to the first new transaction accepted (201)
 * @param probeAttempts create requests tried until one was accepted
 * @param actionsDoneSeconds launch to the participants' last action committed for the old ones
 * @param allFinalSeconds launch to the last old transaction seen final through the API
 * @param notFinal old transactions not seen final (committed) within the bound
 * @param loadBefore load average before the measurement
 * @param loadAfter load average after it
 */
record RecoveryResult(
    DbKind db,
    int asked,
    int inFlight,
    int heldAtKill,
    double submitSeconds,
    double readySeconds,
    double firstAcceptedSeconds,
    int probeAttempts,
    double actionsDoneSeconds,
    double allFinalSeconds,
    long notFinal,
    String loadBefore,
    String loadAfter) {}
