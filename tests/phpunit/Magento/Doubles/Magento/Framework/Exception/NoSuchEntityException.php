<?php

declare(strict_types=1);

namespace Magento\Framework\Exception;

use Magento\Framework\Phrase;

/** Double of Magento's NoSuchEntityException. */
class NoSuchEntityException extends LocalizedException
{
    public function __construct(?Phrase $phrase = null, ?\Exception $cause = null, $code = 0)
    {
        parent::__construct($phrase ?? new Phrase('No such entity.'), $cause, $code);
    }
}
