<?php

declare(strict_types=1);

namespace Magento\Framework\Lock;

/** Double of Magento's interface (lib/internal/Magento/Framework/Lock/LockManagerInterface.php), same signatures. */
interface LockManagerInterface
{
    /** @param int $timeout how long to wait for the lock, in seconds; negative: without limit */
    public function lock(string $name, int $timeout = -1): bool;

    public function unlock(string $name): bool;

    public function isLocked(string $name): bool;
}
