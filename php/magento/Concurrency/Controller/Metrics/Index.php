<?php

declare(strict_types=1);

namespace Monei\Concurrency\Controller\Metrics;

use Magento\Framework\App\Action\HttpGetActionInterface;
use Magento\Framework\App\Request\Http;
use Magento\Framework\Controller\Result\RawFactory;
use Monei\Concurrency\Model\Metrics\Endpoint;

/**
 * GET /monei_concurrency/metrics: the Prometheus endpoint of the module, off
 * unless monei_concurrency/metrics/enabled is set in app/etc/env.php and
 * limited to the addresses of metrics/allow. All decisions are in
 * Model\Metrics\Endpoint.
 */
class Index implements HttpGetActionInterface
{
    public function __construct(
        private Http $request,
        private RawFactory $resultRawFactory,
        private Endpoint $endpoint,
    ) {
    }

    /** @return \Magento\Framework\Controller\Result\Raw */
    public function execute()
    {
        $response = $this->endpoint->respond(
            (string) $this->request->getMethod(),
            (string) $this->request->getServer('REMOTE_ADDR', ''),
        );
        $result = $this->resultRawFactory->create();
        $result->setHttpResponseCode($response->statusCode);
        $result->setHeader('Cache-Control', 'no-store', true);
        $result->setHeader('Content-Type', $response->statusCode === 200
            ? 'text/plain; version=0.0.4; charset=utf-8'
            : 'text/plain; charset=utf-8', true);
        $result->setContents($response->body);
        return $result;
    }
}
