<?php
/**
 * Writes test/connectors/opencart/signature-vectors.json from this extension's own code (the bodies as
 * Stockrelay::encode() writes them, signed by Stockrelay::sign(), and the status joins of
 * Stockrelay::joinStatuses()). check-vectors.php checks the file against the same code.
 *
 *   php tools/make-vectors.php > ../../../../test/connectors/opencart/signature-vectors.json
 */
require __DIR__ . '/../system/library/stockrelay.php';
use Opencart\System\Library\Extension\Stockrelay\Stockrelay;
$secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718';
$store = ['url' => 'https://shop.example.com/', 'id' => 0];
$mk = function ($name, $seq, $topic, $at, $data, $store, $valid, $refusal = null) use ($secret) {
  $body = Stockrelay::encode(['id' => 'evt_' . $seq, 'topic' => $topic, 'created_at' => $at, 'store' => $store, 'data' => $data]);
  $v = ['name' => $name, 'secret' => $secret, 'storeUrl' => 'https://shop.example.com/', 'body' => $body,
    'headers' => ['content-type' => 'application/json', 'x-stockrelay-event-id' => 'evt_' . $seq, 'x-stockrelay-topic' => $topic, 'x-stockrelay-timestamp' => (string)$at, 'x-stockrelay-signature' => Stockrelay::sign($body, $secret)], 'valid' => $valid];
  if ($refusal) $v['refusal'] = $refusal;
  return $v;
};
$order = ['order' => ['order_id' => 1042, 'store_id' => 0, 'order_status_id' => 2, 'order_status' => 'Processing', 'previous_status_id' => 0, 'currency_code' => 'EUR'],
  'stock' => 'subtracted', 'cycle' => 1, 'refund' => false,
  'products' => [['order_product_id' => 311, 'product_id' => 40, 'master_id' => 0, 'name' => 'Bleu de Chine — vase "N°3"', 'model' => 'VASE/3', 'sku' => 'VASE-3', 'quantity' => 2, 'subtract' => 1, 'options' => [['product_option_value_id' => 7, 'name' => 'Glaze', 'value' => 'Céladon']]]],
  'levels' => [['product_id' => 40, 'sku' => 'VASE-3', 'model' => 'VASE/3', 'quantity' => 5, 'subtract' => 1]]];
$vectors = [
  $mk('order.status: a checkout took stock (names with non-ASCII, quotes and slashes)', 17, 'order.status', 1764950400, $order, $store, true),
  $mk('product.updated: a quantity saved in the admin', 18, 'product.updated', 1764950460, ['product' => ['product_id' => 40, 'sku' => 'VASE-3', 'model' => 'VASE/3', 'quantity' => 9, 'subtract' => 1, 'name' => 'Bleu de Chine — vase "N°3"', 'status' => 1]], $store, true),
  $mk('order.status from another store, signed with the same secret', 19, 'order.status', 1764950520, $order, ['url' => 'https://other-shop.example.org/', 'id' => 0], false, 'account'),
];
$joins = [];
foreach ([['3.0.3.9', [2], [5, 3]], ['4.0.2.3', [5, 1, 2, 12, 3], [5, 3]], ['4.0.2.3', [2], [5, 3]], ['4.1.0.2', [5, 1, 2, 12, 3], [5, 3]], ['4.1.0.2', [2], [5, 3]], ['4.1.0.4', [2], [5, 3]]] as [$v, $p, $c]) $joins[] = ['version' => $v, 'processing' => $p, 'complete' => $c, 'holding' => Stockrelay::joinStatuses($v, $p, $c)];
echo json_encode(['about' => 'Deliveries of the stockrelay OpenCart extension, encoded and signed by its PHP code, and the order statuses that hold stock per OpenCart version as it joins them (extension/system/library/stockrelay.php, PHP 8.2). Checked by test/connectors/opencart.test.ts and opencart.conformance.test.ts, and against the PHP by: php server/connectors/opencart/extension/tools/check-vectors.php test/connectors/opencart/signature-vectors.json', 'vectors' => $vectors, 'statusJoins' => $joins], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n";
