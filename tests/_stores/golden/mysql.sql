-- params: [datetime.datetime(2024, 1, 1, 0, 0), datetime.datetime(2024, 1, 2, 0, 0), 'eu']
-- CAST(`d"; DROP TABLE t; --` AS DATE) -> CAST(`d"; DROP TABLE t; --` AS DATE)
DELETE FROM `sales`.`daily` WHERE (FROM_UNIXTIME(`time`)) >= %s AND (FROM_UNIXTIME(`time`)) < %s AND (`k"``; DROP TABLE t; --` IN (%s) OR `k"``; DROP TABLE t; --` IS NULL)
INSERT INTO `sales`.`daily` (`time`, `k"``; DROP TABLE t; --`, `value`) SELECT `time`, `k"``; DROP TABLE t; --`, `value` FROM __src
SELECT count(*) FROM `sales`.`daily` WHERE (FROM_UNIXTIME(`time`)) >= %s AND (FROM_UNIXTIME(`time`)) < %s AND (`k"``; DROP TABLE t; --` IN (%s) OR `k"``; DROP TABLE t; --` IS NULL)
DELETE FROM `sales`.`daily` WHERE TRUE AND (`k"``; DROP TABLE t; --`) IN (SELECT `k"``; DROP TABLE t; --` FROM __src)
SELECT `k"``; DROP TABLE t; --`, count(*) FROM __src GROUP BY `k"``; DROP TABLE t; --` HAVING count(*) > 1 LIMIT 1
SELECT `time`, `k"``; DROP TABLE t; --`, `value` FROM `sales`.`daily` WHERE (FROM_UNIXTIME(`time`)) >= %s AND (FROM_UNIXTIME(`time`)) < %s AND (`k"``; DROP TABLE t; --` IN (%s) OR `k"``; DROP TABLE t; --` IS NULL)
CREATE TABLE IF NOT EXISTS `sales`.`daily` LIKE `sales`.`__stage`
RENAME TABLE `sales`.`daily` TO `sales`.`__old`, `sales`.`__stage` TO `sales`.`daily`
DROP TABLE `sales`.`__old`
ALTER TABLE `sales`.`daily` COMMENT = 'c2NoZW1h'
CREATE TABLE `sales`.`__stage` (`k"``; DROP TABLE t; --` BIGINT, `ts` DATETIME(6), `amount` DECIMAL(12,2), `day` DATE, `tags` LONGTEXT, `flag` BOOLEAN, `blob` LONGBLOB)
