<?php

declare(strict_types=1);

namespace Magento\Framework\App\Action;

use Magento\Framework\App\ActionInterface;

/** Double of Magento's marker interface for actions answering GET. */
interface HttpGetActionInterface extends ActionInterface
{
}
