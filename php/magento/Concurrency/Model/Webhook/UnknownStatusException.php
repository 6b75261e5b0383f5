<?php

declare(strict_types=1);

namespace Monei\Concurrency\Model\Webhook;

/** A webhook named a status the payment state machine does not know (answered 400). */
class UnknownStatusException extends \RuntimeException
{
}
