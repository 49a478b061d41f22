<?php
/**
 * Checks the vectors stockrelay's tests use (test/connectors/opencart/signature-vectors.json) against
 * this extension's own code: each vector's body must be what Stockrelay::encode() writes for it, its
 * X-Stockrelay-Signature what Stockrelay::sign() gives with its secret, and each status join (the
 * order statuses that hold stock, per OpenCart version) what Stockrelay::joinStatuses() gives.
 *
 *   php tools/check-vectors.php ../../../../test/connectors/opencart/signature-vectors.json
 *
 * Prints one line per vector and exits 1 when any differs. Needs PHP 8.1+ and no OpenCart.
 */
require __DIR__ . '/../system/library/stockrelay.php';

use Opencart\System\Library\Extension\Stockrelay\Stockrelay;

$file = json_decode((string)file_get_contents($argv[1] ?? ''), true);

if (!is_array($file) || !isset($file['vectors'])) {
	fwrite(STDERR, "Give the path of signature-vectors.json.\n");
	exit(2);
}

$failed = 0;

foreach ($file['vectors'] as $vector) {
	$encoded = Stockrelay::encode(json_decode($vector['body'], true));
	$signature = Stockrelay::sign($vector['body'], $vector['secret']);
	$ok = $encoded === $vector['body'] && hash_equals($signature, $vector['headers']['x-stockrelay-signature']);
	$failed += $ok ? 0 : 1;

	echo ($ok ? 'ok    ' : 'FAILED') . '  ' . $vector['name'] . "\n";
}

foreach ($file['statusJoins'] ?? [] as $join) {
	$ok = Stockrelay::joinStatuses($join['version'], $join['processing'], $join['complete']) === $join['holding'];
	$failed += $ok ? 0 : 1;

	echo ($ok ? 'ok    ' : 'FAILED') . '  statuses holding stock on OpenCart ' . $join['version'] . ': ' . implode(',', $join['holding']) . "\n";
}

exit($failed ? 1 : 0);
