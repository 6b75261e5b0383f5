<?php

declare(strict_types=1);

namespace Monei\Concurrency\Exception;

use Magento\Framework\Exception\LocalizedException;

/**
 * Thrown by the capture plugin instead of capturing a payment a second time.
 * A LocalizedException, so Magento shows its message in the admin and rolls
 * back the invoice that asked for the capture.
 */
class AlreadyCapturedException extends LocalizedException
{
}
