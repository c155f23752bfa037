"""Are the figures an agent reports really measured? The ledger's figures against the message's claims."""
