<?php

declare(strict_types=1);

namespace Monei\Concurrency\Tests\Magento\Doubles;

use Magento\Framework\App\ResourceConnection;
use Magento\Sales\Model\OrderFactory;
use Monei\MoneiPayment\Api\Data\PaymentErrorCodeInterface;
use Monei\MoneiPayment\Api\PaymentProcessingResultInterface;
use Monei\MoneiPayment\Api\PaymentProcessorInterface;
use Monei\MoneiPayment\Model\Data\PaymentProcessingResult;

/**
 * Stands in for MONEI's Model\PaymentProcessor with its observable
 * behaviour: an unknown order is a failed result ("Order not found"); a
 * SUCCEEDED payment registers the capture on the order's payment (through the
 * guarded processor) and saves the order; other statuses only save. Every
 * run is a row in monei_runs (autocommit), so runs are counted even when they fail.
 */
final class MoneiProcessor implements PaymentProcessorInterface
{
    /** @param int $workMs how long a run takes (widens the windows concurrent deliveries race in) */
    public function __construct(
        private OrderFactory $orderFactory,
        private ResourceConnection $resource,
        private string $dsn,
        private int $workMs = 0,
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
        $status = (string) ($paymentData['status'] ?? 'UNKNOWN');
        $order = $this->orderFactory->create()->loadByIncrementId($orderId);
        if (!$order->getId()) {
            return PaymentProcessingResult::createError('UNKNOWN', $orderId, $paymentId, 'Order not found', PaymentErrorCodeInterface::ERROR_NOT_FOUND);
        }
        (new \PDO($this->dsn, 'root', '', [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]))
            ->prepare('INSERT INTO monei_runs (order_id, payment_id, status, pid) VALUES (?, ?, ?, ?)')
            ->execute([$orderId, $paymentId, $status, getmypid()]);
        if ($this->workMs > 0) {
            usleep($this->workMs * 1000);
        }
        $connection = $this->resource->getConnection('sales');
        $connection->beginTransaction();
        try {
            if ($status === 'SUCCEEDED') {
                $order->getPayment()->registerCaptureNotification($order->getBaseGrandTotal());
                $order->setState('processing')->setStatus('processing');
            }
            $order->save();
            $connection->commit();
        } catch (\Throwable $e) {
            $connection->rollBack();
            return PaymentProcessingResult::createError($status, $orderId, $paymentId, $e->getMessage(), PaymentErrorCodeInterface::ERROR_EXCEPTION);
        }
        return PaymentProcessingResult::createSuccess($status, $orderId, $paymentId);
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
        return [];
    }
}
