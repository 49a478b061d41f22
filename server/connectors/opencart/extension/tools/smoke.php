<?php
/**
 * Runs the extension's catalog and admin controllers and its library outside OpenCart, on a
 * stand-in for OpenCart's registry (config, request, response, cache, loader, user) and a database
 * that answers each query from the rows below, and prints what the PHP produced: the answers of the
 * routes, the deliveries of the order, return and product events, signed, and the events its
 * install registers. stockrelay's tests read that output
 * (test/connectors/opencart/php-answers.json) with the connector's own code: its catalog reader,
 * its level and set readers, and its verify and translate.
 *
 *   php tools/smoke.php > ../../../../test/connectors/opencart/php-answers.json
 *
 * It proves that the PHP runs and writes what the connector reads; it does not prove the SQL
 * against MySQL (see README.md, "How it was checked").
 */
namespace Opencart\System\Engine {
	class Controller {
		public function __construct(protected object $registry) {
		}

		public function __get(string $key): object {
			return $this->registry->$key;
		}
	}
}

namespace {
	const VERSION = '4.1.0.4';
	const DB_PREFIX = 'oc_';
	const HTTP_SERVER = 'https://shop.example.com/';
	// In the admin, HTTP_SERVER is the admin's address and HTTP_CATALOG the shop's.
	const HTTP_CATALOG = 'https://shop.example.com/';
	const SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718';
	const KEY = 'k9f8e7d6c5b4a3928170f6e5d4c3b2a19080706050403020';

	require __DIR__ . '/../system/library/stockrelay.php';
	require __DIR__ . '/../catalog/controller/module/stockrelay.php';
	require __DIR__ . '/../admin/controller/module/stockrelay.php';

	use Opencart\System\Library\Extension\Stockrelay\Stockrelay as Relay;

	/** The controller, with the request body handed in instead of read from php://input. */
	class SmokeController extends \Opencart\Catalog\Controller\Extension\Stockrelay\Module\Stockrelay {
		public static string $input = '';

		protected function input(): string {
			return self::$input;
		}
	}

	/** Answers each query with the first rule whose pattern matches it; records every query. */
	class FakeDb {
		public array $queries = [];
		public int $affected = 0;
		public int $lastId = 0;

		public function __construct(private array $rules) {
		}

		public function query(string $sql): object {
			$this->queries[] = $sql;

			foreach ($this->rules as [$pattern, $answer]) {
				if (preg_match($pattern, $sql)) {
					$result = is_callable($answer) ? $answer($sql, $this) : $answer;
					$rows = is_array($result) ? $result : [];

					return (object)['rows' => $rows, 'row' => $rows[0] ?? [], 'num_rows' => count($rows)];
				}
			}

			throw new \Exception('No rule answers: ' . $sql);
		}

		public function escape(string $value): string {
			return addslashes($value);
		}

		public function countAffected(): int {
			return $this->affected;
		}

		public function getLastId(): int {
			return $this->lastId;
		}
	}

	class FakeConfig {
		public function __construct(private array $values) {
		}

		public function get(string $key): mixed {
			return $this->values[$key] ?? null;
		}
	}

	class FakeResponse {
		public array $headers = [];
		public string $output = '';

		public function addHeader(string $header): void {
			$this->headers[] = $header;
		}

		public function setOutput(string $output): void {
			$this->output = $output;
		}
	}

	class FakeCache {
		public function delete(string $key): void {
		}
	}

	/** A model the loader hands out: records each call. */
	class FakeModel {
		public array $calls = [];

		public function __call(string $name, array $args): mixed {
			$this->calls[] = [$name, $args];

			return null;
		}
	}

	class FakeLoader {
		public function __construct(private object $registry) {
		}

		public function model(string $route): void {
			$key = 'model_' . str_replace('/', '_', $route);
			$this->registry->$key ??= new FakeModel();
		}
	}

	class FakeUser {
		public function hasPermission(string $what, string $route): bool {
			return true;
		}
	}

	/** The registry a controller is made with. */
	function registry(FakeDb $db, array $server = [], array $get = []): object {
		global $config;

		$registry = (object)['db' => $db, 'config' => $config, 'request' => (object)['server' => $server, 'get' => $get], 'response' => new FakeResponse(), 'cache' => new FakeCache(), 'user' => new FakeUser()];
		$registry->load = new FakeLoader($registry);

		return $registry;
	}

	/** An event store: each event the controllers record goes into $bodies. */
	function eventRules(array &$bodies, int &$seq): array {
		return [
			['/^INSERT INTO `oc_stockrelay_event`/', function ($sql, $db) use (&$seq) { $db->lastId = ++$seq; return []; }],
			['/^UPDATE `oc_stockrelay_event` SET `body`/', function ($sql) use (&$bodies) { preg_match("/SET `body` = '(.*)' WHERE/s", $sql, $m); $bodies[] = stripslashes($m[1]); return []; }],
			['/^(DELETE FROM `oc_stockrelay_event`|UPDATE `oc_stockrelay_event`)/', []]
		];
	}

	$config = new FakeConfig([
		'module_stockrelay_status'         => 1,
		'module_stockrelay_api_key'        => KEY,
		'module_stockrelay_webhook_secret' => SECRET,
		'module_stockrelay_webhook_url'    => '',
		'module_stockrelay_refund_status'  => ['11'],
		'module_stockrelay_restock_return_status' => ['3'],
		'config_language_id'               => 1,
		'config_store_id'                  => 0,
		// As OpenCart keeps them: strings.
		'config_processing_status'         => ['5', '1', '2', '12', '3'],
		'config_complete_status'           => ['5', '3']
	]);

	/** Runs one route of the controller as OpenCart would for this request; its status, headers and JSON. */
	function route(FakeDb $db, string $method, string $verb, array $get = [], ?array $body = null): array {
		$registry = registry($db, ['SERVER_PROTOCOL' => 'HTTP/1.1', 'REQUEST_METHOD' => $verb, 'HTTP_X_STOCKRELAY_KEY' => KEY], $get);
		$response = $registry->response;
		$controller = new SmokeController($registry);

		SmokeController::$input = $body === null ? '' : json_encode($body);
		$controller->$method();

		return ['request' => ['method' => $verb, 'route' => $method, 'get' => $get, 'body' => $body], 'headers' => $response->headers, 'json' => json_decode($response->output, true)];
	}

	$products = [
		['product_id' => '40', 'sku' => 'VASE-3', 'model' => 'VASE/3', 'quantity' => '5', 'subtract' => '1', 'status' => '1', 'name' => 'Bleu de Chine &amp; vase'],
		['product_id' => '41', 'sku' => '', 'model' => 'MUG-1', 'quantity' => '-2', 'subtract' => '1', 'status' => '0', 'name' => 'Mug']
	];

	$catalogDb = new FakeDb([
		['/COUNT\(\*\)/', [['total' => '2']]],
		['/FROM `oc_product` p LEFT JOIN `oc_product_description`/', $products],
		['/FROM `oc_product_option_value` pov/', [['product_id' => '40', 'product_option_value_id' => '7', 'quantity' => '2', 'subtract' => '1', 'option_name' => 'Glaze', 'value_name' => 'C&eacute;ladon']]]
	]);

	$levelsDb = new FakeDb([
		['/FROM `oc_product_option_value` pov/', fn($sql) => str_contains($sql, "= '7'") ? [['quantity' => '2', 'subtract' => '1', 'status' => '1']] : []],
		['/FROM `oc_product` WHERE `product_id` = \'40\'/', [['quantity' => '5', 'subtract' => '1', 'status' => '1']]],
		['/FROM `oc_product` WHERE/', []]
	]);

	// set: product 40 is at 5 (compare-and-set from 5 to 4 applies), product 41 at -2 (expected 0: stale), 99 does not exist;
	// 42 and 43 are at 3, the quantity asked for: 42 expected at 5 (it got to 3 by itself: stale), 43 expected at 3 (unchanged).
	$setDb = new FakeDb([
		['/^UPDATE `oc_product` SET `quantity` = \'4\' WHERE `product_id` = \'40\' AND `quantity` = \'5\'/', function ($sql, $db) { $db->affected = 1; return []; }],
		['/^UPDATE/', function ($sql, $db) { $db->affected = 0; return []; }],
		['/SELECT `quantity` FROM `oc_product` WHERE `product_id` = \'41\'/', [['quantity' => '-2']]],
		['/SELECT `quantity` FROM `oc_product` WHERE `product_id` = \'4[23]\'/', [['quantity' => '3']]],
		['/SELECT `quantity` FROM/', []]
	]);

	$answers = [
		'catalog' => route($catalogDb, 'catalog', 'GET', ['page' => '1', 'limit' => '2']),
		'levels'  => route($levelsDb, 'levels', 'POST', [], ['items' => [['product_id' => 40, 'product_option_value_id' => 0], ['product_id' => 40, 'product_option_value_id' => 7], ['product_id' => 99, 'product_option_value_id' => 0]]]),
		'set'     => route($setDb, 'set', 'POST', [], ['changes' => [['product_id' => 40, 'product_option_value_id' => 0, 'quantity' => 4, 'expected' => 5], ['product_id' => 41, 'product_option_value_id' => 0, 'quantity' => 3, 'expected' => 0], ['product_id' => 99, 'product_option_value_id' => 0, 'quantity' => 1], ['product_id' => 42, 'product_option_value_id' => 0, 'quantity' => 3, 'expected' => 5], ['product_id' => 43, 'product_option_value_id' => 0, 'quantity' => 3, 'expected' => 3]]]),
		'refused' => route($levelsDb, 'levels', 'POST', [], ['items' => [['product_id' => '40']]])
	];

	// An order: Pending (taking stock) from nothing, then Canceled (giving it back).
	$status = 0;
	$cycle = 0;
	$seq = 0;
	$bodies = [];
	$orderDb = new FakeDb([
		['/^SELECT `order_status_id` FROM `oc_order`/', function () use (&$status) { return [['order_status_id' => (string)$status]]; }],
		['/^SELECT o\.`order_id`/', function () use (&$status) { return [['order_id' => '1042', 'store_id' => '0', 'order_status_id' => (string)$status, 'currency_code' => 'EUR', 'status' => $status == 7 ? 'Canceled' : 'Pending']]; }],
		['/^INSERT INTO `oc_stockrelay_order`/', function () use (&$cycle) { $cycle++; return []; }],
		['/^SELECT `cycle`/', function () use (&$cycle) { return $cycle ? [['cycle' => (string)$cycle]] : []; }],
		['/FROM `oc_order_product` op/', [['order_product_id' => '311', 'product_id' => '40', 'name' => 'Bleu de Chine &amp; vase', 'model' => 'VASE/3', 'quantity' => '2', 'sku' => 'VASE-3', 'subtract' => '1', 'master_id' => '0']]],
		['/FROM `oc_order_option`/', [['product_option_value_id' => '7', 'name' => 'Glaze', 'value' => 'Céladon']]],
		['/FROM `oc_product` WHERE `product_id` IN \(40\)/', function () use (&$status) { return [['product_id' => '40', 'sku' => 'VASE-3', 'model' => 'VASE/3', 'quantity' => $status == 7 ? '5' : '3', 'subtract' => '1']]; }],
		...eventRules($bodies, $seq)
	]);

	foreach ([1, 7] as $next) {
		$route = 'checkout/order.addHistory';
		$args = [1042, $next];
		$output = null;
		$controller = new SmokeController(registry($orderDb));
		$controller->orderBefore($route, $args);
		$status = $next;
		$controller->orderAfter($route, $args, $output);
	}

	// An order edited in the admin (4.x: through the catalog API): it held stock at Processing;
	// editOrder voids it with a direct addHistory (no event) and replaces its line; the API's
	// addHistory then takes the new line.
	$edited = ['status' => 0, 'cycle' => 0, 'line' => ['321', '2'], 'stock' => 10];
	$editDb = new FakeDb([
		['/^SELECT `order_status_id` FROM `oc_order`/', function () use (&$edited) { return [['order_status_id' => (string)$edited['status']]]; }],
		['/^SELECT o\.`order_id`/', function () use (&$edited) { return [['order_id' => '1043', 'store_id' => '0', 'order_status_id' => (string)$edited['status'], 'currency_code' => 'EUR', 'status' => $edited['status'] == 16 ? 'Voided' : 'Processing']]; }],
		['/^INSERT INTO `oc_stockrelay_order`/', function () use (&$edited) { $edited['cycle']++; return []; }],
		['/^SELECT `cycle`/', function () use (&$edited) { return $edited['cycle'] ? [['cycle' => (string)$edited['cycle']]] : []; }],
		['/FROM `oc_order_product` op/', function () use (&$edited) { return [['order_product_id' => $edited['line'][0], 'product_id' => '40', 'name' => 'Vase', 'model' => 'VASE/3', 'quantity' => $edited['line'][1], 'sku' => 'VASE-3', 'subtract' => '1', 'master_id' => '0']]; }],
		['/FROM `oc_order_option`/', []],
		['/FROM `oc_product` WHERE `product_id` IN \(40\)/', function () use (&$edited) { return [['product_id' => '40', 'sku' => 'VASE-3', 'model' => 'VASE/3', 'quantity' => (string)$edited['stock'], 'subtract' => '1']]; }],
		...eventRules($bodies, $seq)
	]);
	$history = function (int $next, int $stock) use (&$edited, $editDb) {
		$route = 'checkout/order.addHistory';
		$args = [1043, $next];
		$output = null;
		$controller = new SmokeController(registry($editDb));
		$controller->orderBefore($route, $args);
		[$edited['status'], $edited['stock']] = [$next, $stock];
		$controller->orderAfter($route, $args, $output);
	};

	$history(2, 8);

	$route = 'checkout/order.editOrder';
	$args = [1043, []];
	$output = null;
	$controller = new SmokeController(registry($editDb));
	$controller->watchBefore($route, $args);
	// Inside editOrder: addHistory(order, config_void_status_id) called directly (stock back), then the new line.
	[$edited['status'], $edited['stock'], $edited['line']] = [16, 10, ['322', '1']];
	$controller->watchAfter($route, $args, $output);

	$history(2, 9);

	// Orders deleted: on 4.1 deleteOrder voids through the model (an addHistory event), on 4.0 with a
	// direct call (none); either way the give-back is reported once.
	foreach ([1044 => true, 1045 => false] as $order_id => $throughModel) {
		$deleted = ['status' => 2, 'exists' => true, 'stock' => 8];
		$deleteDb = new FakeDb([
			['/^SELECT `order_status_id` FROM `oc_order`/', function () use (&$deleted) { return $deleted['exists'] ? [['order_status_id' => (string)$deleted['status']]] : []; }],
			['/^SELECT o\.`order_id`/', function () use (&$deleted, $order_id) { return $deleted['exists'] ? [['order_id' => (string)$order_id, 'store_id' => '0', 'order_status_id' => (string)$deleted['status'], 'currency_code' => 'EUR', 'status' => $deleted['status'] == 16 ? 'Voided' : 'Processing']] : []; }],
			['/^SELECT `cycle`/', [['cycle' => '1']]],
			['/FROM `oc_order_product` op/', function () use (&$deleted, $order_id) { return $deleted['exists'] ? [['order_product_id' => (string)($order_id * 10), 'product_id' => '40', 'name' => 'Vase', 'model' => 'VASE/3', 'quantity' => '2', 'sku' => 'VASE-3', 'subtract' => '1', 'master_id' => '0']] : []; }],
			['/FROM `oc_order_option`/', []],
			['/FROM `oc_product` WHERE `product_id` IN \(40\)/', function () use (&$deleted) { return [['product_id' => '40', 'sku' => 'VASE-3', 'model' => 'VASE/3', 'quantity' => (string)$deleted['stock'], 'subtract' => '1']]; }],
			...eventRules($bodies, $seq)
		]);
		$route = 'checkout/order.deleteOrder';
		$args = [$order_id];
		$output = null;
		$controller = new SmokeController(registry($deleteDb));
		$controller->watchBefore($route, $args);

		if ($throughModel) {
			$history = [$order_id, 16];
			$controller->orderBefore($route, $history);
			[$deleted['status'], $deleted['stock']] = [16, 10];
			$controller->orderAfter($route, $history, $output);
		} else {
			[$deleted['status'], $deleted['stock']] = [0, 10];
		}

		$deleted['exists'] = false;
		$controller->watchAfter($route, $args, $output);
	}

	// The admin: a product saved; an unopened return completed (restocked once, even when completed twice); an opened one.
	$admin = fn(FakeDb $db) => new \Opencart\Admin\Controller\Extension\Stockrelay\Module\Stockrelay(registry($db));
	$restocked = [];
	$adminDb = new FakeDb([
		['/FROM `oc_product` p LEFT JOIN `oc_product_description`/', [['product_id' => '40', 'sku' => 'VASE-3', 'model' => 'VASE/3', 'quantity' => '9', 'subtract' => '1', 'status' => '1', 'name' => 'Bleu de Chine &amp; vase']]],
		['/FROM `oc_return` r/', fn($sql) => [['return_id' => str_contains($sql, "= '5'") ? '5' : '6', 'order_id' => '1042', 'product_id' => '40', 'product' => 'Bleu de Chine &amp; vase', 'model' => 'VASE/3', 'quantity' => '1', 'opened' => str_contains($sql, "= '5'") ? '0' : '1', 'order_status_id' => '1', 'sku' => 'VASE-3', 'subtract' => '1', 'known' => '40', 'status' => 'Complete']]],
		['/^INSERT IGNORE INTO `oc_stockrelay_return`/', function ($sql, $db) use (&$restocked) { preg_match("/`return_id` = '(\\d+)'/", $sql, $m); $db->affected = in_array($m[1], $restocked) ? 0 : 1; $restocked[] = $m[1]; return []; }],
		['/^UPDATE `oc_product` SET `quantity` = \(`quantity` \+ 1\)/', []],
		['/FROM `oc_product` WHERE `product_id` IN \(40\)/', [['product_id' => '40', 'sku' => 'VASE-3', 'model' => 'VASE/3', 'quantity' => '10', 'subtract' => '1']]],
		...eventRules($bodies, $seq)
	]);
	$route = '';
	$output = null;

	foreach ([['productAfter', [40, []]], ['returnAfter', [5, 3, '', false]], ['returnAfter', [5, 3, 'again', false]], ['returnAfter', [6, 3, '', false]]] as [$method, $args]) {
		$admin($adminDb)->$method($route, $args, $output);
	}

	// The install: its tables and the events it registers.
	$installDb = new FakeDb([['/^CREATE TABLE IF NOT EXISTS/', []]]);
	$installRegistry = registry($installDb);
	(new \Opencart\Admin\Controller\Extension\Stockrelay\Module\Stockrelay($installRegistry))->install();
	$installed = array_values(array_map(fn($call) => $call[1][0], array_filter($installRegistry->model_setting_event->calls, fn($call) => $call[0] == 'addEvent')));

	$deliveries = array_map(function ($body) {
		$event = json_decode($body, true);

		return ['body' => $body, 'headers' => ['content-type' => 'application/json', 'x-stockrelay-event-id' => $event['id'], 'x-stockrelay-topic' => $event['topic'], 'x-stockrelay-timestamp' => (string)$event['created_at'], 'x-stockrelay-signature' => Relay::sign($body, SECRET)]];
	}, $bodies);

	echo json_encode(['about' => 'What the extension\'s PHP (PHP ' . PHP_VERSION . ') answers and sends, run by tools/smoke.php on a stand-in database; created_at is the time it ran.', 'secret' => SECRET, 'storeUrl' => HTTP_SERVER, 'answers' => $answers, 'deliveries' => $deliveries, 'installed' => ['version' => VERSION, 'events' => $installed]], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n";
}
