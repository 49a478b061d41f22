<?php
/**
 * Stockrelay, catalog side: the routes the hub calls and the order events.
 *
 * Routes: index.php?route=extension/stockrelay/module/stockrelay.<method>, header X-Stockrelay-Key:
 *   catalog (GET page, limit ≤ 100), levels (POST {items}), set (POST {changes} ≤ 100),
 *   status (POST {product_id, status}), events (GET after, limit ≤ 100).
 * Events: catalog/model/checkout/order(.|/)addHistory/before and /after, and the same for editOrder
 * and deleteOrder (the admin installs them).
 */
namespace Opencart\Catalog\Controller\Extension\Stockrelay\Module;

use Opencart\System\Library\Extension\Stockrelay\Stockrelay as Relay;

class Stockrelay extends \Opencart\System\Engine\Controller {
	private const MAX = 100;

	/** The order status before addHistory ran, per order id (read in the before-event). */
	private static array $previous = [];

	/** The order, its status and its lines before editOrder or deleteOrder ran, per order id; "reported": an addHistory event came in between. */
	private static array $watched = [];

	/** The raw request body (its own method, so a test can hand one in). */
	protected function input(): string {
		return (string)file_get_contents('php://input');
	}

	private function relay(): Relay {
		return new Relay($this->db, $this->config);
	}

	private function reply(int $status, array $data): void {
		$reasons = [200 => 'OK', 400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden', 404 => 'Not Found', 405 => 'Method Not Allowed'];

		if ($status != 200) {
			$this->response->addHeader($this->request->server['SERVER_PROTOCOL'] . ' ' . $status . ' ' . $reasons[$status]);
		}

		$this->response->addHeader('Content-Type: application/json; charset=utf-8');
		$this->response->addHeader('Cache-Control: no-store');
		$this->response->setOutput(Relay::encode($data));
	}

	private function fail(int $status, string $code, string $message): bool {
		$this->reply($status, ['error' => ['code' => $code, 'message' => $message]]);

		return false;
	}

	/** The extension is enabled and the request carries its key. */
	private function allowed(string $method): bool {
		if (!$this->config->get('module_stockrelay_status')) {
			return $this->fail(403, 'disabled', 'The stockrelay extension is disabled.');
		}

		$key = (string)$this->config->get('module_stockrelay_api_key');
		$given = (string)($this->request->server['HTTP_X_STOCKRELAY_KEY'] ?? '');

		if ($key === '' || !hash_equals($key, $given)) {
			return $this->fail(401, 'unauthorized', 'The X-Stockrelay-Key header is missing or wrong.');
		}

		if ($this->request->server['REQUEST_METHOD'] != $method) {
			return $this->fail(405, 'method_not_allowed', 'This method takes ' . $method . '.');
		}

		return true;
	}

	/** The JSON body's list under $name: objects, at most 100. */
	private function listOf(string $name): ?array {
		$body = json_decode($this->input(), true);
		$list = is_array($body) ? ($body[$name] ?? null) : null;

		if (!is_array($list) || !array_is_list($list) || count($list) > self::MAX) {
			$this->fail(400, 'bad_request', $name . ' must be a list of at most ' . self::MAX . ' objects.');

			return null;
		}

		foreach ($list as $item) {
			if (!is_array($item) || !is_int($item['product_id'] ?? null) || !is_int($item['product_option_value_id'] ?? null)) {
				$this->fail(400, 'bad_request', 'Each item needs a whole product_id and product_option_value_id (0 for the product itself).');

				return null;
			}
		}

		return $list;
	}

	private function param(string $name, int $default, int $min, int $max): ?int {
		$raw = $this->request->get[$name] ?? null;
		$value = $raw === null ? $default : (preg_match('/^\d{1,18}$/', (string)$raw) ? (int)$raw : -1);

		if ($value < $min || $value > $max) {
			$this->fail(400, 'bad_request', $name . ' must be a whole number from ' . $min . ' to ' . $max . '.');

			return null;
		}

		return $value;
	}

	public function catalog(): void {
		if (!$this->allowed('GET') || ($limit = $this->param('limit', self::MAX, 1, self::MAX)) === null || ($page = $this->param('page', 1, 1, 1000000)) === null) {
			return;
		}

		$total = (int)$this->db->query("SELECT COUNT(*) AS `total` FROM `" . DB_PREFIX . "product`")->row['total'];

		$query = $this->db->query("SELECT p.`product_id`, p.`sku`, p.`model`, p.`quantity`, p.`subtract`, p.`status`, pd.`name` FROM `" . DB_PREFIX . "product` p LEFT JOIN `" . DB_PREFIX . "product_description` pd ON (pd.`product_id` = p.`product_id` AND pd.`language_id` = '" . (int)$this->config->get('config_language_id') . "') ORDER BY p.`product_id` LIMIT " . (($page - 1) * $limit) . "," . $limit);

		$products = [];

		foreach ($query->rows as $row) {
			$products[(int)$row['product_id']] = ['product_id' => (int)$row['product_id'], 'sku' => (string)$row['sku'], 'model' => (string)$row['model'], 'name' => html_entity_decode((string)$row['name'], ENT_QUOTES, 'UTF-8'), 'quantity' => (int)$row['quantity'], 'subtract' => (int)$row['subtract'], 'status' => (int)$row['status'], 'options' => []];
		}

		if ($products) {
			$language_id = (int)$this->config->get('config_language_id');

			$options = $this->db->query("SELECT pov.`product_id`, pov.`product_option_value_id`, pov.`quantity`, pov.`subtract`, od.`name` AS `option_name`, ovd.`name` AS `value_name` FROM `" . DB_PREFIX . "product_option_value` pov LEFT JOIN `" . DB_PREFIX . "option_description` od ON (od.`option_id` = pov.`option_id` AND od.`language_id` = '" . $language_id . "') LEFT JOIN `" . DB_PREFIX . "option_value_description` ovd ON (ovd.`option_value_id` = pov.`option_value_id` AND ovd.`language_id` = '" . $language_id . "') WHERE pov.`product_id` IN (" . implode(',', array_keys($products)) . ") ORDER BY pov.`product_option_value_id`");

			foreach ($options->rows as $row) {
				$products[(int)$row['product_id']]['options'][] = ['product_option_value_id' => (int)$row['product_option_value_id'], 'name' => html_entity_decode($row['option_name'] . ': ' . $row['value_name'], ENT_QUOTES, 'UTF-8'), 'quantity' => (int)$row['quantity'], 'subtract' => (int)$row['subtract']];
			}
		}

		$this->reply(200, ['store' => ['url' => Relay::storeUrl(), 'id' => (int)$this->config->get('config_store_id')], 'page' => $page, 'limit' => $limit, 'total' => $total, 'products' => array_values($products)]);
	}

	public function levels(): void {
		if (!$this->allowed('POST') || ($items = $this->listOf('items')) === null) {
			return;
		}

		$levels = [];

		foreach ($items as $item) {
			$product_id = $item['product_id'];
			$pov_id = $item['product_option_value_id'];

			if ($pov_id) {
				$query = $this->db->query("SELECT pov.`quantity`, pov.`subtract`, p.`status` FROM `" . DB_PREFIX . "product_option_value` pov LEFT JOIN `" . DB_PREFIX . "product` p ON (p.`product_id` = pov.`product_id`) WHERE pov.`product_option_value_id` = '" . $pov_id . "' AND pov.`product_id` = '" . $product_id . "'");
			} else {
				$query = $this->db->query("SELECT `quantity`, `subtract`, `status` FROM `" . DB_PREFIX . "product` WHERE `product_id` = '" . $product_id . "'");
			}

			if ($query->num_rows) {
				$levels[] = ['product_id' => $product_id, 'product_option_value_id' => $pov_id, 'quantity' => (int)$query->row['quantity'], 'subtract' => (int)$query->row['subtract'], 'status' => (int)$query->row['status']];
			}
		}

		$this->reply(200, ['levels' => $levels]);
	}

	public function set(): void {
		if (!$this->allowed('POST') || ($changes = $this->listOf('changes')) === null) {
			return;
		}

		foreach ($changes as $change) {
			if (!is_int($change['quantity'] ?? null) || (array_key_exists('expected', $change) && !is_int($change['expected']))) {
				$this->fail(400, 'bad_request', 'Each change needs a whole quantity (and expected, when given).');

				return;
			}
		}

		$relay = $this->relay();
		$results = [];

		foreach ($changes as $change) {
			$results[] = $relay->set($change['product_id'], $change['product_option_value_id'], $change['quantity'], $change['expected'] ?? null);
		}

		$this->cache->delete('product');

		$this->reply(200, ['results' => $results]);
	}

	public function status(): void {
		if (!$this->allowed('POST')) {
			return;
		}

		$body = json_decode($this->input(), true);

		if (!is_array($body) || !is_int($body['product_id'] ?? null) || !in_array($body['status'] ?? null, [0, 1], true)) {
			$this->fail(400, 'bad_request', 'status takes {"product_id": n, "status": 0 or 1}.');

			return;
		}

		if (!$this->db->query("SELECT `product_id` FROM `" . DB_PREFIX . "product` WHERE `product_id` = '" . (int)$body['product_id'] . "'")->num_rows) {
			$this->fail(404, 'not_found', 'No product ' . (int)$body['product_id'] . '.');

			return;
		}

		$this->db->query("UPDATE `" . DB_PREFIX . "product` SET `status` = '" . (int)$body['status'] . "', `date_modified` = NOW() WHERE `product_id` = '" . (int)$body['product_id'] . "'");

		$this->cache->delete('product');

		$this->reply(200, ['product_id' => (int)$body['product_id'], 'status' => (int)$body['status']]);
	}

	public function events(): void {
		if (!$this->allowed('GET') || ($after = $this->param('after', 0, 0, PHP_INT_MAX)) === null || ($limit = $this->param('limit', self::MAX, 1, self::MAX)) === null) {
			return;
		}

		$query = $this->db->query("SELECT `event_id`, `body` FROM `" . DB_PREFIX . "stockrelay_event` WHERE `event_id` > '" . (int)$after . "' AND `body` <> '' ORDER BY `event_id` LIMIT " . ($limit + 1));
		$last = (int)$this->db->query("SELECT MAX(`event_id`) AS `last` FROM `" . DB_PREFIX . "stockrelay_event`")->row['last'];

		$events = [];

		foreach (array_slice($query->rows, 0, $limit) as $row) {
			$events[] = ['seq' => (int)$row['event_id'], 'body' => json_decode($row['body'], true)];
		}

		$this->reply(200, ['events' => $events, 'last_seq' => $last, 'more' => count($query->rows) > $limit]);
	}

	/** Event catalog/model/checkout/order…addHistory/before: the status the order has now. */
	public function orderBefore(string &$route, array &$args): void {
		$order_id = (int)($args[0] ?? 0);

		$query = $this->db->query("SELECT `order_status_id` FROM `" . DB_PREFIX . "order` WHERE `order_id` = '" . $order_id . "'");

		self::$previous[$order_id] = $query->num_rows ? (int)$query->row['order_status_id'] : 0;
	}

	/** Event …addHistory/after: what OpenCart did to stock, with the lines and the quantities now. */
	public function orderAfter(string &$route, array &$args, mixed &$output): void {
		$order_id = (int)($args[0] ?? 0);

		if (!$this->config->get('module_stockrelay_status') || !array_key_exists($order_id, self::$previous)) {
			return;
		}

		$previous = self::$previous[$order_id];
		unset(self::$previous[$order_id]);

		if (isset(self::$watched[$order_id])) {
			self::$watched[$order_id]['reported'] = true;
		}

		$this->report($order_id, $previous, $this->products($order_id), $this->order($order_id));
	}

	/**
	 * Events catalog/model/checkout/order…editOrder/before and …deleteOrder/before. editOrder (4.0
	 * and 4.1) and deleteOrder (4.0) void the order first by calling their own addHistory directly,
	 * which fires no event, and then replace or delete its lines. The order, its status and its lines
	 * are kept here, for the after-event to report the stock that void gave back.
	 */
	public function watchBefore(string &$route, array &$args): void {
		$order_id = (int)($args[0] ?? 0);
		$order = $this->order($order_id);

		self::$watched[$order_id] = ['order' => $order, 'products' => $this->products($order_id), 'reported' => false];
	}

	/**
	 * Events …editOrder/after and …deleteOrder/after: the lines the void gave back, when it did and no
	 * addHistory event said so already (4.1's deleteOrder voids through the model, which fires one).
	 * The new lines of an edit are taken by the addHistory that follows it.
	 */
	public function watchAfter(string &$route, array &$args, mixed &$output): void {
		$order_id = (int)($args[0] ?? 0);

		if (!$this->config->get('module_stockrelay_status') || !isset(self::$watched[$order_id])) {
			return;
		}

		$before = self::$watched[$order_id];
		unset(self::$watched[$order_id]);

		if ($before['reported'] || !$before['order']) {
			return;
		}

		// A deleted order holds no stock: status 0.
		$now = $this->order($order_id) ?? ['order_status_id' => 0, 'status' => ''] + $before['order'];

		$this->report($order_id, (int)$before['order']['order_status_id'], $before['products'], $now, true);
	}

	/** The order row with its status name, or null. */
	private function order(int $order_id): ?array {
		$query = $this->db->query("SELECT o.`order_id`, o.`store_id`, o.`order_status_id`, o.`currency_code`, os.`name` AS `status` FROM `" . DB_PREFIX . "order` o LEFT JOIN `" . DB_PREFIX . "order_status` os ON (os.`order_status_id` = o.`order_status_id` AND os.`language_id` = '" . (int)$this->config->get('config_language_id') . "') WHERE o.`order_id` = '" . $order_id . "'");

		return $query->num_rows ? $query->row : null;
	}

	/** The order's lines now, as the events carry them. */
	private function products(int $order_id): array {
		$lines = $this->db->query("SELECT op.`order_product_id`, op.`product_id`, op.`name`, op.`model`, op.`quantity`, p.`sku`, p.`subtract`, p.`master_id` FROM `" . DB_PREFIX . "order_product` op LEFT JOIN `" . DB_PREFIX . "product` p ON (p.`product_id` = op.`product_id`) WHERE op.`order_id` = '" . $order_id . "' ORDER BY op.`order_product_id`");

		$products = [];

		foreach ($lines->rows as $line) {
			$options = $this->db->query("SELECT `product_option_value_id`, `name`, `value` FROM `" . DB_PREFIX . "order_option` WHERE `order_id` = '" . $order_id . "' AND `order_product_id` = '" . (int)$line['order_product_id'] . "'");

			$products[] = [
				'order_product_id' => (int)$line['order_product_id'],
				'product_id'       => (int)$line['product_id'],
				'master_id'        => (int)$line['master_id'],
				'name'             => html_entity_decode((string)$line['name'], ENT_QUOTES, 'UTF-8'),
				'model'            => (string)$line['model'],
				'sku'              => (string)$line['sku'],
				'quantity'         => (int)$line['quantity'],
				'subtract'         => (int)$line['subtract'],
				'options'          => array_map(fn($o) => ['product_option_value_id' => (int)$o['product_option_value_id'], 'name' => (string)$o['name'], 'value' => (string)$o['value']], $options->rows)
			];
		}

		return $products;
	}

	/**
	 * One order.status event: what moving from $previous to the order's status now ($order) did to
	 * stock, for these lines. For a void inside editOrder or deleteOrder ($void) only a give-back is
	 * reported.
	 */
	private function report(int $order_id, int $previous, array $products, ?array $order, bool $void = false): void {
		if (!$order) {
			return;
		}

		// The status addHistory stored (an anti-fraud extension may have chosen another than asked).
		$status_id = (int)$order['order_status_id'];
		$relay = $this->relay();
		$was = $relay->holds($previous);
		$is = $relay->holds($status_id);
		$stock = !$was && $is ? 'subtracted' : ($was && !$is ? 'restored' : 'none');

		if ($void && $stock != 'restored') {
			return;
		}

		if ($stock == 'subtracted') {
			$this->db->query("INSERT INTO `" . DB_PREFIX . "stockrelay_order` SET `order_id` = '" . $order_id . "', `cycle` = '1' ON DUPLICATE KEY UPDATE `cycle` = `cycle` + 1");
		}

		$cycle = $this->db->query("SELECT `cycle` FROM `" . DB_PREFIX . "stockrelay_order` WHERE `order_id` = '" . $order_id . "'");

		$relay->record('order.status', [
			'order'    => ['order_id' => $order_id, 'store_id' => (int)$order['store_id'], 'order_status_id' => $status_id, 'order_status' => (string)$order['status'], 'previous_status_id' => $previous, 'currency_code' => (string)$order['currency_code']],
			'stock'    => $stock,
			'cycle'    => $cycle->num_rows ? (int)$cycle->row['cycle'] : 1,
			'refund'   => $stock == 'restored' && in_array($status_id, (array)$this->config->get('module_stockrelay_refund_status')),
			'products' => $products,
			'levels'   => $relay->levels(array_column($products, 'product_id'))
		], (int)$order['store_id']);
	}
}
