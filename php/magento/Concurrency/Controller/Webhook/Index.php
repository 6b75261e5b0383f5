<?php

declare(strict_types=1);

namespace Monei\Concurrency\Controller\Webhook;

use Magento\Framework\App\Action\HttpPostActionInterface;
use Magento\Framework\App\CsrfAwareActionInterface;
use Magento\Framework\App\Request\Http;
use Magento\Framework\App\Request\InvalidRequestException;
use Magento\Framework\App\RequestInterface;
use Magento\Framework\Controller\Result\RawFactory;
use Monei\Concurrency\Model\Webhook\Handler;

/**
 * POST /monei_concurrency/webhook: MONEI's payment callbacks.
 *
 * Magento's router finds it from the module name Monei_Concurrency and the
 * route (Controller/Webhook/Index). All decisions are in Model\Webhook\Handler.
 */
class Index implements HttpPostActionInterface, CsrfAwareActionInterface
{
    public function __construct(
        private Http $request,
        private RawFactory $resultRawFactory,
        private Handler $handler,
    ) {
    }

    /** @return \Magento\Framework\Controller\Result\Raw */
    public function execute()
    {
        $response = $this->handler->handle(
            (string) $this->request->getContent(),
            (string) $this->request->getHeader('MONEI-Signature'),
        );
        $result = $this->resultRawFactory->create();
        $result->setHttpResponseCode($response->statusCode);
        $result->setHeader('Content-Type', 'text/plain; charset=utf-8', true);
        $result->setContents($response->body);
        return $result;
    }

    /** MONEI cannot send Magento's form key; the request is authenticated by its signature instead. */
    public function createCsrfValidationException(RequestInterface $request): ?InvalidRequestException
    {
        return null;
    }

    public function validateForCsrf(RequestInterface $request): ?bool
    {
        return true;
    }
}
