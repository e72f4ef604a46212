/* Network flows, explained: kilobytes in, total bytes and latency, per record.
   The forest is smaller than KDA's default and shingles two records. */
create or replace stream "FLOW_SCORES" (
    "kb_in"               double,
    "total"               double,
    "latency_ms"          double,
    "ANOMALY_SCORE"       double,
    "ANOMALY_EXPLANATION" varchar(2048));

create or replace stream "DESTINATION_SQL_STREAM" (
    "kb_in"               double,
    "total"               double,
    "latency_ms"          double,
    "ANOMALY_SCORE"       double,
    "ANOMALY_EXPLANATION" varchar(2048));

create or replace pump "EXPLAIN_PUMP" as insert into "FLOW_SCORES"
select stream "kb_in", "total", "latency_ms", ANOMALY_SCORE, ANOMALY_EXPLANATION
from table(RANDOM_CUT_FOREST_WITH_EXPLANATION(
    cursor(select stream "bytes_in" / 1024 as "kb_in",
                         ("bytes_in" + "bytes_out") as "total",  -- both directions
                         "latency_ms"
           from "SOURCE_SQL_STREAM_001"),
    50,      -- numberOfTrees
    128,     -- subSampleSize
    20000,   -- timeDecay
    2,       -- shingleSize
    true));  -- withDirectionality

create or replace pump "ALERT_PUMP" as insert into "DESTINATION_SQL_STREAM"
select stream * from "FLOW_SCORES" where ANOMALY_SCORE > 1.5;
