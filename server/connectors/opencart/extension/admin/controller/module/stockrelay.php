<?php
/**
 * Stockrelay, admin side: its settings page (Extensions > Extensions > Modules > Stockrelay), its
 * install (tables, events, a new API key and webhook secret) and uninstall, and the admin events:
 * a product saved (product.updated) and a return's history (return.status, restocking an unopened
 * return once at a restocking status).
 */
namespace Opencart\Admin\Controller\Extension\Stockrelay\Module;

use Opencart\System\Library\Extension\Stockrelay\Stockrelay as Relay;

class Stockrelay extends \Opencart\System\Engine\Controller {
	private const ROUTE = 'extension/stockrelay/module/stockrelay';

	public function index(): void {
		$this->load->language(self::ROUTE);

		$this->document->setTitle($this->language->get('heading_title'));

		$token = 'user_token=' . $this->session->data['user_token'];

		$data['breadcrumbs'] = [
			['text' => $this->language->get('text_home'), 'href' => $this->url->link('common/dashboard', $token)],
			['text' => $this->language->get('text_extension'), 'href' => $this->url->link('marketplace/extension', $token . '&type=module')],
			['text' => $this->language->get('heading_title'), 'href' => $this->url->link(self::ROUTE, $token)]
		];

		$data['save'] = $this->url->link(self::ROUTE . '.save', $token);
		$data['back'] = $this->url->link('marketplace/extension', $token . '&type=module');

		foreach (['status', 'api_key', 'webhook_url', 'webhook_secret'] as $key) {
			$data['module_stockrelay_' . $key] = $this->config->get('module_stockrelay_' . $key);
		}

		$data['module_stockrelay_refund_status'] = (array)$this->config->get('module_stockrelay_refund_status');
		$data['module_stockrelay_restock_return_status'] = (array)$this->config->get('module_stockrelay_restock_return_status');

		$this->load->model('localisation/order_status');
		$this->load->model('localisation/return_status');

		$data['order_statuses'] = $this->model_localisation_order_status->getOrderStatuses();
		$data['return_statuses'] = $this->model_localisation_return_status->getReturnStatuses();
		$data['api_url'] = HTTP_CATALOG . 'index.php?route=' . self::ROUTE;

		$data['header'] = $this->load->controller('common/header');
		$data['column_left'] = $this->load->controller('common/column_left');
		$data['footer'] = $this->load->controller('common/footer');

		$this->response->setOutput($this->load->view(self::ROUTE, $data));
	}

	public function save(): void {
		$this->load->language(self::ROUTE);

		$json = [];

		if (!$this->user->hasPermission('modify', self::ROUTE)) {
			$json['error'] = $this->language->get('error_permission');
		} elseif (strlen((string)($this->request->post['module_stockrelay_api_key'] ?? '')) < 32 || strlen((string)($this->request->post['module_stockrelay_webhook_secret'] ?? '')) < 32) {
			$json['error'] = $this->language->get('error_secret');
		} elseif (!preg_match('#^https://#i', (string)($this->request->post['module_stockrelay_webhook_url'] ?? '')) && ($this->request->post['module_stockrelay_webhook_url'] ?? '') !== '') {
			$json['error'] = $this->language->get('error_url');
		}

		if (!$json) {
			$this->load->model('setting/setting');

			$this->model_setting_setting->editSetting('module_stockrelay', $this->request->post);

			$json['success'] = $this->language->get('text_success');
		}

		$this->response->addHeader('Content-Type: application/json');
		$this->response->setOutput(json_encode($json));
	}

	/** Tables, the events (the trigger syntax of this OpenCart version) and new secrets. */
	public function install(): void {
		if (!$this->user->hasPermission('modify', 'extension/module')) {
			return;
		}

		$this->db->query("CREATE TABLE IF NOT EXISTS `" . DB_PREFIX . "stockrelay_event` (`event_id` INT(11) NOT NULL AUTO_INCREMENT, `topic` VARCHAR(32) NOT NULL, `body` MEDIUMTEXT NOT NULL, `sent` TINYINT(1) NOT NULL DEFAULT '0', `date_added` DATETIME NOT NULL, PRIMARY KEY (`event_id`), KEY `date_added` (`date_added`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
		$this->db->query("CREATE TABLE IF NOT EXISTS `" . DB_PREFIX . "stockrelay_order` (`order_id` INT(11) NOT NULL, `cycle` INT(11) NOT NULL DEFAULT '0', PRIMARY KEY (`order_id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
		$this->db->query("CREATE TABLE IF NOT EXISTS `" . DB_PREFIX . "stockrelay_return` (`return_id` INT(11) NOT NULL, `quantity` INT(11) NOT NULL, `date_added` DATETIME NOT NULL, PRIMARY KEY (`return_id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");

		// 4.1 names a model method after a dot (checkout/order.addHistory), 4.0.2 after a slash.
		$sep = version_compare(VERSION, '4.1.0.0', '>=') ? '.' : '/';

		$events = [
			['order_before', 'catalog/model/checkout/order' . $sep . 'addHistory/before', 'orderBefore'],
			['order_after', 'catalog/model/checkout/order' . $sep . 'addHistory/after', 'orderAfter'],
			['edit_before', 'catalog/model/checkout/order' . $sep . 'editOrder/before', 'watchBefore'],
			['edit_after', 'catalog/model/checkout/order' . $sep . 'editOrder/after', 'watchAfter'],
			['delete_before', 'catalog/model/checkout/order' . $sep . 'deleteOrder/before', 'watchBefore'],
			['delete_after', 'catalog/model/checkout/order' . $sep . 'deleteOrder/after', 'watchAfter'],
			['product_after', 'admin/model/catalog/product' . $sep . 'editProduct/after', 'productAfter'],
			['return_after', 'admin/model/sale/returns' . $sep . 'addHistory/after', 'returnAfter']
		];

		$this->load->model('setting/event');

		$this->model_setting_event->deleteEventByCode('stockrelay');

		foreach ($events as [$name, $trigger, $method]) {
			$this->model_setting_event->addEvent(['code' => 'stockrelay', 'description' => 'Stockrelay: ' . $name, 'trigger' => $trigger, 'action' => self::ROUTE . '.' . $method, 'status' => 1, 'sort_order' => 100]);
		}

		$this->load->model('setting/setting');

		$this->model_setting_setting->editSetting('module_stockrelay', [
			'module_stockrelay_status'                => 0,
			'module_stockrelay_api_key'               => bin2hex(random_bytes(24)),
			'module_stockrelay_webhook_secret'        => bin2hex(random_bytes(24)),
			'module_stockrelay_webhook_url'           => '',
			'module_stockrelay_refund_status'         => [11],
			'module_stockrelay_restock_return_status' => [3]
		]);
	}

	public function uninstall(): void {
		if (!$this->user->hasPermission('modify', 'extension/module')) {
			return;
		}

		$this->load->model('setting/event');

		$this->model_setting_event->deleteEventByCode('stockrelay');

		foreach (['stockrelay_event', 'stockrelay_order', 'stockrelay_return'] as $table) {
			$this->db->query("DROP TABLE IF EXISTS `" . DB_PREFIX . $table . "`");
		}
	}

	/** Event admin/model/catalog/product…editProduct/after: the quantity as saved. */
	public function productAfter(string &$route, array &$args, mixed &$output): void {
		$product_id = (int)($args[0] ?? 0);

		if (!$this->config->get('module_stockrelay_status')) {
			return;
		}

		$query = $this->db->query("SELECT p.`product_id`, p.`sku`, p.`model`, p.`quantity`, p.`subtract`, p.`status`, pd.`name` FROM `" . DB_PREFIX . "product` p LEFT JOIN `" . DB_PREFIX . "product_description` pd ON (pd.`product_id` = p.`product_id` AND pd.`language_id` = '" . (int)$this->config->get('config_language_id') . "') WHERE p.`product_id` = '" . $product_id . "'");

		if ($query->num_rows) {
			$relay = new Relay($this->db, $this->config);

			$relay->record('product.updated', ['product' => $relay->levelRow($query->row) + ['name' => html_entity_decode((string)$query->row['name'], ENT_QUOTES, 'UTF-8'), 'status' => (int)$query->row['status']]]);
		}
	}

	/**
	 * Event admin/model/sale/returns…addHistory/after. OpenCart itself never restocks a return; the
	 * extension does, once, for an unopened return reaching a restocking status while its order
	 * still holds its stock (an order that left the stock statuses got everything back already).
	 */
	public function returnAfter(string &$route, array &$args, mixed &$output): void {
		$return_id = (int)($args[0] ?? 0);
		$status_id = (int)($args[1] ?? 0);

		if (!$this->config->get('module_stockrelay_status')) {
			return;
		}

		$query = $this->db->query("SELECT r.*, o.`order_status_id`, p.`sku`, p.`subtract`, p.`product_id` AS `known`, rs.`name` AS `status` FROM `" . DB_PREFIX . "return` r LEFT JOIN `" . DB_PREFIX . "order` o ON (o.`order_id` = r.`order_id`) LEFT JOIN `" . DB_PREFIX . "product` p ON (p.`product_id` = r.`product_id`) LEFT JOIN `" . DB_PREFIX . "return_status` rs ON (rs.`return_status_id` = '" . $status_id . "' AND rs.`language_id` = '" . (int)$this->config->get('config_language_id') . "') WHERE r.`return_id` = '" . $return_id . "'");

		if (!$query->num_rows) {
			return;
		}

		$return = $query->row;
		$relay = new Relay($this->db, $this->config);
		$restocked = 0;

		$due = in_array($status_id, (array)$this->config->get('module_stockrelay_restock_return_status')) && !(int)$return['opened'] && $return['known'] && $relay->holds((int)$return['order_status_id']);

		if ($due) {
			// One row per return: a second history entry at a restocking status restocks nothing.
			$this->db->query("INSERT IGNORE INTO `" . DB_PREFIX . "stockrelay_return` SET `return_id` = '" . $return_id . "', `quantity` = '" . (int)$return['quantity'] . "', `date_added` = NOW()");

			if ($this->db->countAffected() == 1) {
				$restocked = (int)$return['quantity'];

				$this->db->query("UPDATE `" . DB_PREFIX . "product` SET `quantity` = (`quantity` + " . $restocked . ") WHERE `product_id` = '" . (int)$return['product_id'] . "' AND `subtract` = '1'");

				$this->cache->delete('product');
			}
		}

		$relay->record('return.status', [
			'return'    => ['return_id' => $return_id, 'order_id' => (int)$return['order_id'], 'product_id' => (int)$return['product_id'], 'product' => html_entity_decode((string)$return['product'], ENT_QUOTES, 'UTF-8'), 'model' => (string)$return['model'], 'sku' => (string)$return['sku'], 'quantity' => (int)$return['quantity'], 'opened' => (int)$return['opened'], 'return_status_id' => $status_id, 'return_status' => (string)$return['status']],
			'restocked' => $restocked,
			'levels'    => $relay->levels([(int)$return['product_id']])
		]);
	}
}
