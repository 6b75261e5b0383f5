<?php

declare(strict_types=1);

namespace Magento\Sales\Api\Data;

/** Double of Magento's OrderInterface: only as a parameter type. */
interface OrderInterface
{
}
