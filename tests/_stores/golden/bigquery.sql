-- params: [datetime.datetime(2024, 1, 1, 0, 0), datetime.datetime(2024, 1, 2, 0, 0), 'eu']
-- CAST(`d"; DROP TABLE t; --` AS DATE) -> CAST(`d"; DROP TABLE t; --` AS DATE)
DELETE FROM `sales`.`daily` WHERE (TIMESTAMP_SECONDS(`time`)) >= ? AND (TIMESTAMP_SECONDS(`time`)) < ? AND (`k"\`; DROP TABLE t; --` IN (?) OR `k"\`; DROP TABLE t; --` IS NULL)
INSERT INTO `sales`.`daily` (`time`, `k"\`; DROP TABLE t; --`, `value`) SELECT `time`, `k"\`; DROP TABLE t; --`, `value` FROM __src
SELECT count(*) FROM `sales`.`daily` WHERE (TIMESTAMP_SECONDS(`time`)) >= ? AND (TIMESTAMP_SECONDS(`time`)) < ? AND (`k"\`; DROP TABLE t; --` IN (?) OR `k"\`; DROP TABLE t; --` IS NULL)
DELETE FROM `sales`.`daily` WHERE TRUE AND EXISTS (SELECT 1 FROM __src AS __wharf_s WHERE __wharf_s.`k"\`; DROP TABLE t; --` = __wharf_t.`k"\`; DROP TABLE t; --`)
SELECT `k"\`; DROP TABLE t; --`, count(*) FROM __src GROUP BY `k"\`; DROP TABLE t; --` HAVING count(*) > 1 LIMIT 1
SELECT `time`, `k"\`; DROP TABLE t; --`, `value` FROM `sales`.`daily` WHERE (TIMESTAMP_SECONDS(`time`)) >= ? AND (TIMESTAMP_SECONDS(`time`)) < ? AND (`k"\`; DROP TABLE t; --` IN (?) OR `k"\`; DROP TABLE t; --` IS NULL)
MERGE `sales`.`daily` AS __wharf_t USING __src ON FALSE WHEN NOT MATCHED BY SOURCE AND (TIMESTAMP_SECONDS(`time`)) >= ? AND (TIMESTAMP_SECONDS(`time`)) < ? AND (`k"\`; DROP TABLE t; --` IN (?) OR `k"\`; DROP TABLE t; --` IS NULL) THEN DELETE WHEN NOT MATCHED THEN INSERT (`time`, `k"\`; DROP TABLE t; --`, `value`) VALUES (`time`, `k"\`; DROP TABLE t; --`, `value`)
