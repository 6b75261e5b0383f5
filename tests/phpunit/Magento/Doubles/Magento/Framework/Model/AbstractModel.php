<?php

declare(strict_types=1);

namespace Magento\Framework\Model;

/** Double of Magento's AbstractModel: only as the type of Order::addRelatedObject(). */
abstract class AbstractModel
{
}
