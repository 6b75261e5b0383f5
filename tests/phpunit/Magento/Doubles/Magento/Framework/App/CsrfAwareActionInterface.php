<?php

declare(strict_types=1);

namespace Magento\Framework\App;

use Magento\Framework\App\Request\InvalidRequestException;

/** Double of Magento's CsrfAwareActionInterface. */
interface CsrfAwareActionInterface extends ActionInterface
{
    public function createCsrfValidationException(RequestInterface $request): ?InvalidRequestException;

    public function validateForCsrf(RequestInterface $request): ?bool;
}
