<?php

declare(strict_types=1);

namespace Magento\Sales\Api\Data;

/** Double of Magento's OrderPaymentInterface: only as the parameter type of the processor and operations. */
interface OrderPaymentInterface
{
}
