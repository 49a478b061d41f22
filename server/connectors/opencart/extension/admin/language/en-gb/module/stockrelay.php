<?php
// Heading
$_['heading_title']        = 'Stockrelay';

// Text
$_['text_extension']       = 'Extensions';
$_['text_success']         = 'Success: You have modified the Stockrelay module!';
$_['text_edit']            = 'Edit Stockrelay';
$_['text_help']            = 'Give the hub the API address, the API key and the webhook secret below; give this shop the hub\'s webhook address.';

// Entry
$_['entry_status']         = 'Status';
$_['entry_api_url']        = 'API address (for the hub)';
$_['entry_api_key']        = 'API key';
$_['entry_webhook_url']    = 'Hub webhook address';
$_['entry_webhook_secret'] = 'Webhook secret';
$_['entry_refund_status']  = 'Order statuses that are refunds';
$_['entry_restock_return'] = 'Return statuses that restock an unopened return';

// Error
$_['error_permission']     = 'Warning: You do not have permission to modify the Stockrelay module!';
$_['error_secret']         = 'The API key and the webhook secret must be at least 32 characters.';
$_['error_url']            = 'The hub webhook address must start with https://.';
