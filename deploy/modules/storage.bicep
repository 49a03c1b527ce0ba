// The Table Storage account holding Chatr's state (the backend's `TableStore`), reachable only
// with Entra ID (no shared keys), and the backend identity's data role on it.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Replication: geo-zone-redundant by default, so chat history survives a zone and a region outage.')
@allowed(['Standard_GZRS', 'Standard_RAGZRS', 'Standard_GRS', 'Standard_RAGRS'])
param sku string = 'Standard_GZRS'

@description('Prefix of the table names; must match the backend\'s CHATR_TABLE_PREFIX.')
param tablePrefix string

@description('Principal id of the backend\'s managed identity.')
param backendPrincipalId string

param tags object = {}

// The tables the backend's TableStore opens (backend/src/store/table/mod.rs).
var tables = ['users', 'presence', 'connections', 'chats', 'userchats', 'messages']

// Storage Table Data Contributor.
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: Container Apps on the consumption plan have no fixed egress address to allow; every request needs an Entra token with the data role (shared keys are off). Private endpoints need a VNet-integrated environment: deploy/README.md, "Hardening".
  // checkov:skip=CKV_AZURE_59: as CKV_AZURE_35: the public endpoint stays reachable, but only with Entra ID tokens of the backend identity.
  // checkov:skip=CKV_AZURE_206: the SKU is the `sku` parameter, which @allowed limits to geo-replicated SKUs (GZRS, RA-GZRS, GRS, RA-GRS; tested in deploy/tests); checkov cannot resolve a parameter.
  name: name
  location: location
  tags: tags
  sku: { name: sku }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      // Container Apps on the consumption plan reach storage over the public endpoint; access
      // still needs an Entra token with the data role below.
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      requireInfrastructureEncryption: true
      keySource: 'Microsoft.Storage'
      services: {
        table: { enabled: true, keyType: 'Account' }
        queue: { enabled: true, keyType: 'Account' }
        blob: { enabled: true }
        file: { enabled: true }
      }
    }
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource chatrTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for table in tables: {
    parent: tableService
    name: '${tablePrefix}${table}'
  }
]

resource backendTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, backendPrincipalId, tableDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', tableDataContributor)
    principalId: backendPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
// https://<account>.table.core.windows.net in the public cloud (no trailing slash).
output tableEndpoint string = 'https://${account.name}.table.${environment().suffixes.storage}'
