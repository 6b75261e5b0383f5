<?php

declare(strict_types=1);

namespace Magento\Sales\Api\Data;

/** Double of Magento's InvoiceInterface: only as a type. */
interface InvoiceInterface
{
}
