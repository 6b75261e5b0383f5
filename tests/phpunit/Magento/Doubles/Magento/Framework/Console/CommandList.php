<?php

declare(strict_types=1);

namespace Magento\Framework\Console;

/** Double of Magento's CommandList: the commands di.xml adds to bin/magento. */
class CommandList
{
    public function __construct(private array $commands = [])
    {
    }

    /** @return \Symfony\Component\Console\Command\Command[] */
    public function getCommands()
    {
        return $this->commands;
    }
}
