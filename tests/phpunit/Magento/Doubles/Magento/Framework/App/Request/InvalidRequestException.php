<?php

declare(strict_types=1);

namespace Magento\Framework\App\Request;

/** Double of Magento's InvalidRequestException (never constructed by the module). */
class InvalidRequestException extends \RuntimeException
{
}
