<?php
/**
 * Stockrelay for OpenCart 4 (4.0.2.0 and later): what the admin and catalog controllers share.
 * Written from OpenCart's own source (catalog/model/checkout/order.php addHistory); protocol 1,
 * described in server/connectors/opencart/protocol.ts of stockrelay.
 *
 * - sign(): the X-Stockrelay-Signature of a body, "sha256=" . hex HMAC-SHA256(secret, body);
 * - record(): logs an event (its id is its sequence number) and posts it, signed, to the hub;
 * - holdingStatuses(): the order statuses in which OpenCart keeps an order's stock taken, computed
 *   as the running version's addHistory computes them;
 * - set(): one quantity written with a single UPDATE, compare-and-set when "expected" is given.
 */
namespace Opencart\System\Library\Extension\Stockrelay;

class Stockrelay {
	public const PROTOCOL = 1;
	/** Events older than this many days are pruned from the log. */
	public const KEEP_DAYS = 30;

	private object $db;
	private object $config;

	public function __construct(object $db, object $config) {
		$this->db = $db;
		$this->config = $config;
	}

	public static function sign(string $body, string $secret): string {
		return 'sha256=' . hash_hmac('sha256', $body, $secret);
	}

	public static function encode(array $value): string {
		return json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
	}

	/** The store's address: the catalog's, also when called from the admin. */
	public static function storeUrl(): string {
		return defined('HTTP_CATALOG') ? HTTP_CATALOG : HTTP_SERVER;
	}

	/**
	 * array_merge(processing, complete), as addHistory joins them; OpenCart 4.1.0.0 to 4.1.0.3 join
	 * them with `+` (by array key), and so does this, to report what that version did to stock.
	 */
	public static function joinStatuses(string $version, array $processing, array $complete): array {
		if (version_compare($version, '4.1.0.0', '>=') && version_compare($version, '4.1.0.4', '<')) {
			return array_values($processing + $complete);
		}

		return array_merge($processing, $complete);
	}

	/** The order statuses in which this shop keeps an order's stock taken. */
	public function holdingStatuses(): array {
		return self::joinStatuses(VERSION, (array)$this->config->get('config_processing_status'), (array)$this->config->get('config_complete_status'));
	}

	public function holds(int $order_status_id): bool {
		return in_array($order_status_id, $this->holdingStatuses());
	}

	/** Quantity rows of products, as the events carry them. */
	public function levels(array $product_ids): array {
		$ids = array_values(array_unique(array_map('intval', $product_ids)));

		if (!$ids) {
			return [];
		}

		$query = $this->db->query("SELECT `product_id`, `sku`, `model`, `quantity`, `subtract` FROM `" . DB_PREFIX . "product` WHERE `product_id` IN (" . implode(',', $ids) . ") ORDER BY `product_id`");

		return array_map([$this, 'levelRow'], $query->rows);
	}

	public function levelRow(array $row): array {
		return ['product_id' => (int)$row['product_id'], 'sku' => (string)$row['sku'], 'model' => (string)$row['model'], 'quantity' => (int)$row['quantity'], 'subtract' => (int)$row['subtract']];
	}

	/** Logs the event, then posts it; a delivery that fails stays in the log, where the hub's events feed finds it. */
	public function record(string $topic, array $data, int $store_id = 0): void {
		$this->db->query("INSERT INTO `" . DB_PREFIX . "stockrelay_event` SET `topic` = '" . $this->db->escape($topic) . "', `body` = '', `sent` = '0', `date_added` = NOW()");

		$seq = $this->db->getLastId();

		$body = self::encode(['id' => 'evt_' . $seq, 'topic' => $topic, 'created_at' => time(), 'store' => ['url' => self::storeUrl(), 'id' => $store_id], 'data' => $data]);

		$this->db->query("UPDATE `" . DB_PREFIX . "stockrelay_event` SET `body` = '" . $this->db->escape($body) . "' WHERE `event_id` = '" . (int)$seq . "'");
		$this->db->query("DELETE FROM `" . DB_PREFIX . "stockrelay_event` WHERE `date_added` < DATE_SUB(NOW(), INTERVAL " . (int)self::KEEP_DAYS . " DAY)");

		if ($this->post('evt_' . $seq, $topic, $body)) {
			$this->db->query("UPDATE `" . DB_PREFIX . "stockrelay_event` SET `sent` = '1' WHERE `event_id` = '" . (int)$seq . "'");
		}
	}

	/** One POST to the hub, short timeouts: a slow hub must not hold up a checkout. */
	public function post(string $id, string $topic, string $body): bool {
		$url = (string)$this->config->get('module_stockrelay_webhook_url');
		$secret = (string)$this->config->get('module_stockrelay_webhook_secret');

		if (!$url || !$secret || !function_exists('curl_init')) {
			return false;
		}

		$created_at = json_decode($body, true)['created_at'];

		$curl = curl_init($url);

		curl_setopt_array($curl, [
			CURLOPT_POST           => true,
			CURLOPT_POSTFIELDS     => $body,
			CURLOPT_RETURNTRANSFER => true,
			CURLOPT_CONNECTTIMEOUT => 3,
			CURLOPT_TIMEOUT        => 5,
			CURLOPT_HTTPHEADER     => [
				'Content-Type: application/json',
				'User-Agent: stockrelay-opencart/' . self::PROTOCOL . ' (OpenCart ' . VERSION . ')',
				'X-Stockrelay-Event-Id: ' . $id,
				'X-Stockrelay-Topic: ' . $topic,
				'X-Stockrelay-Timestamp: ' . $created_at,
				'X-Stockrelay-Signature: ' . self::sign($body, $secret)
			]
		]);

		curl_exec($curl);

		$status = (int)curl_getinfo($curl, CURLINFO_RESPONSE_CODE);

		curl_close($curl);

		return $status >= 200 && $status < 300;
	}

	/**
	 * One quantity, written by a single UPDATE: with "expected" only if the quantity is still that
	 * (compare-and-set), and never when it already is the quantity asked for.
	 *
	 * Nothing written is "unchanged" only when the quantity is the one asked for and, with
	 * "expected", also the one expected. A quantity that reached the number asked for from another
	 * than expected moved by itself (orders the hub has not heard of yet) and is "stale": answered
	 * "unchanged", the hub would take the shop's own sales for its write and count them again when
	 * their orders arrive.
	 */
	public function set(int $product_id, int $product_option_value_id, int $quantity, ?int $expected): array {
		$ids = ['product_id' => $product_id, 'product_option_value_id' => $product_option_value_id];

		if ($product_option_value_id) {
			$table = "`" . DB_PREFIX . "product_option_value`";
			$where = " WHERE `product_option_value_id` = '" . $product_option_value_id . "' AND `product_id` = '" . $product_id . "'";
		} else {
			$table = "`" . DB_PREFIX . "product`";
			$where = " WHERE `product_id` = '" . $product_id . "'";
		}

		$guard = ($expected === null ? '' : " AND `quantity` = '" . $expected . "'") . " AND `quantity` <> '" . $quantity . "'";

		$this->db->query("UPDATE " . $table . " SET `quantity` = '" . $quantity . "'" . $where . $guard);

		if ($this->db->countAffected() == 1) {
			return $ids + ['result' => 'applied', 'quantity' => $quantity];
		}

		$query = $this->db->query("SELECT `quantity` FROM " . $table . $where);

		if (!$query->num_rows) {
			return $ids + ['result' => 'not_found'];
		}

		$now = (int)$query->row['quantity'];

		$unchanged = $now == $quantity && ($expected === null || $expected == $quantity);

		return $ids + ['result' => $unchanged ? 'unchanged' : 'stale', 'quantity' => $now];
	}
}
