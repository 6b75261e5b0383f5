<?php

declare(strict_types=1);

namespace Magento\Framework\Controller\Result;

/** Double of the generated RawFactory. */
class RawFactory
{
    public function create(array $data = [])
    {
        return new Raw();
    }
}
