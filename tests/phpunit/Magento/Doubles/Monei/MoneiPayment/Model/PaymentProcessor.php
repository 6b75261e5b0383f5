<?php

declare(strict_types=1);

namespace Monei\MoneiPayment\Model;

use Magento\Framework\App\ResourceConnection;
use Magento\Sales\Api\Data\OrderInterface;
use Magento\Sales\Model\OrderFactory;
use Monei\MoneiPayment\Api\Data\PaymentErrorCodeInterface;
use Monei\MoneiPayment\Api\PaymentProcessingResultInterface;
use Monei\MoneiPayment\Api\PaymentProcessorInterface;
use Monei\MoneiPayment\Model\Data\PaymentDTO;
use Monei\MoneiPayment\Model\Data\PaymentProcessingResult;

/**
 * Double of MONEI's Model\PaymentProcessor (2.2.3) with its structure and
 * observable behaviour:
 * - process() (webhook, redirect): an unknown order or any exception is a
 *   failed result; otherwise processPayment() decides success;
 * - processPaymentById() (cron): the payment's current data from MONEI's API
 *   (here: what the test put in $moneiApi), then processPayment();
 * - processPayment(): a SUCCEEDED payment registers the capture on the
 *   order's payment (through the guarded processor) and saves the order.
 * Internal calls go through $this, so the interceptor's plugins run as in
 * Magento. Every processPayment() run is a row in monei_runs (autocommit).
 */
class PaymentProcessor implements PaymentProcessorInterface
{
    /** @param array<string, array> $moneiApi payment id => payment data, what getPayment() answers */
    public function __construct(
        private OrderFactory $orderFactory,
        private ResourceConnection $resource,
        private string $dsn,
        private int $workMs = 0,
        public array $moneiApi = [],
    ) {
    }

    public static function createSchema(\PDO $pdo): void
    {
        $pdo->exec('CREATE TABLE monei_runs (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            order_id VARCHAR(50) NOT NULL, payment_id VARCHAR(255) NOT NULL, status VARCHAR(64) NOT NULL,
            pid INT NOT NULL) ENGINE=InnoDB');
    }

    public function process(string $orderId, string $paymentId, array $paymentData): PaymentProcessingResultInterface
    {
        try {
            $order = $this->orderFactory->create()->loadByIncrementId($orderId);
            if (!$order->getId()) {
                return PaymentProcessingResult::createError('UNKNOWN', $orderId, $paymentId, 'Order not found', PaymentErrorCodeInterface::ERROR_NOT_FOUND);
            }
            $payment = new PaymentDTO($paymentData);
            if ($this->processPayment($order, $payment)) {
                return PaymentProcessingResult::createSuccess($payment->getStatus(), $orderId, $paymentId);
            }
            return PaymentProcessingResult::createError($payment->getStatus(), $orderId, $paymentId, 'Payment processing failed', PaymentErrorCodeInterface::ERROR_PROCESSING_FAILED);
        } catch (\Exception $e) {
            return PaymentProcessingResult::createError('UNKNOWN', $orderId, $paymentId, $e->getMessage(), PaymentErrorCodeInterface::ERROR_EXCEPTION);
        }
    }

    public function isProcessing(string $orderId, string $paymentId): bool
    {
        throw new \LogicException('answered by the plugin in these tests');
    }

    public function waitForProcessing(string $orderId, string $paymentId, int $timeout = 15): bool
    {
        throw new \LogicException('answered by the plugin in these tests');
    }

    public function getPayment(string $paymentId): array
    {
        return $this->moneiApi[$paymentId] ?? ['status' => 'ERROR', 'error' => 'unknown payment'];
    }

    public function processPaymentById(OrderInterface $order, string $paymentId): bool
    {
        $data = $this->getPayment($paymentId);
        if (($data['status'] ?? '') === 'ERROR') {
            return false;
        }
        return $this->processPayment($order, new PaymentDTO($data));
    }

    public function processPayment(OrderInterface $order, PaymentDTO $payment): bool
    {
        (new \PDO($this->dsn, 'root', '', [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]))
            ->prepare('INSERT INTO monei_runs (order_id, payment_id, status, pid) VALUES (?, ?, ?, ?)')
            ->execute([$order->getIncrementId(), $payment->getId(), $payment->getStatus(), getmypid()]);
        if ($this->workMs > 0) {
            usleep($this->workMs * 1000);
        }
        // Reloaded here, under the order lock (MONEI works on the order it was given).
        $order = $this->orderFactory->create()->loadByIncrementId($order->getIncrementId());
        $connection = $this->resource->getConnection('sales');
        $connection->beginTransaction();
        try {
            if ($payment->getStatus() === 'SUCCEEDED') {
                $order->getPayment()->registerCaptureNotification($order->getBaseGrandTotal());
                $order->setState('processing')->setStatus('processing');
            }
            $order->save();
            $connection->commit();
        } catch (\Throwable $e) {
            $connection->rollBack();
            return false;
        }
        return true;
    }
}
